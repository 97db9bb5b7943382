"""Time to first token and total time per question for the agents.

    python bench/agents.py                          # SmolLM2-135M on the CPU
    python bench/agents.py --llm http://HOST:PORT/v1 [--agent-mode agent]

The coverage ("not in the notes") calibration lives in ``coursemate eval answers`` (eval/answers.py).

Prints one row per question (first token = first streamed answer token, or the whole answer when the
mode does not stream), then the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

from coursemate.config import Settings

QUESTIONS = [
    "Why does the course use global average pooling?",
    "What do LSTM gates do?",
    "How does batch normalization work?",
    "What is the receptive field?",
    "Why do residual connections help deep networks?",
    "What is the inception module in GoogLeNet?",
    "How does MobileNet use depthwise separable convolutions?",
    "What is contrastive loss?",
    "How does self-attention work in transformers?",
    "What is ReLU and why is it used?",
]

def bench_answers(settings: Settings) -> None:
    from coursemate.agents import CourseAssistant
    from coursemate.agents.events import AnswerEvent, TokenEvent

    assistant = CourseAssistant(settings)
    _ = assistant.index, assistant.corrector  # load the index and the speller before timing
    t = time.perf_counter()
    _, info = assistant.llm()
    print(f"model: {info.detail} (ready in {time.perf_counter() - t:.1f}s), mode: {assistant.mode()}")
    print(f"{'first token s':>13} {'total s':>8} {'mode':>12} {'cites':>5}  question")
    firsts, totals = [], []
    for question in QUESTIONS:
        started, first = time.perf_counter(), None
        for event in assistant.stream(question, conversation_id=question):
            if isinstance(event, TokenEvent) and first is None:
                first = time.perf_counter() - started
            if isinstance(event, AnswerEvent):
                answer = event.answer
        total = time.perf_counter() - started
        first = total if first is None else first
        firsts.append(first)
        totals.append(total)
        print(f"{first:13.2f} {total:8.2f} {answer.mode:>12} {len(answer.citations):5d}  {question}")
    print(f"{statistics.median(firsts):13.2f} {statistics.median(totals):8.2f} {'median':>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default="smollm2", help="smollm2 (default), extractive, an OpenAI-compatible URL, ...")
    parser.add_argument("--agent-mode", choices=("auto", "agent", "grounded"))
    parser.add_argument("--max-tokens", type=int, help="most tokens per model call")
    args = parser.parse_args()
    settings = Settings.load(llm=args.llm, agent_mode=args.agent_mode, llm_max_tokens=args.max_tokens)
    bench_answers(settings)


if __name__ == "__main__":
    main()
