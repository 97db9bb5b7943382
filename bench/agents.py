"""Time to first token and total time per question for the agents, and the coverage calibration.

    python bench/agents.py                          # the embedded default (SmolLM2-135M on the CPU)
    python bench/agents.py --llm http://HOST:PORT/v1 [--agent-mode agent]
    python bench/agents.py --calibrate              # best dense similarity of in/out-of-scope questions

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
OUT_OF_SCOPE = [
    "What is the capital of France?", "How do I bake sourdough bread?", "Who won the 2018 football world cup?",
    "How do I file my taxes in Germany?", "What is the plot of Hamlet?", "How does a car engine work?",
    "What are the symptoms of the flu?", "What is quantum entanglement?", "How do vaccines work?",
    "Who painted the Mona Lisa?", "How to train a puppy", "What is blockchain consensus?",
]


def bench_answers(settings: Settings) -> None:
    from agents import CourseAssistant

    assistant = CourseAssistant(settings)
    assistant.index, assistant.corrector  # load the index and the speller before timing
    t = time.perf_counter()
    _, info = assistant.llm()
    print(f"model: {info.detail} (ready in {time.perf_counter() - t:.1f}s), mode: {assistant.mode()}")
    print(f"{'first token s':>13} {'total s':>8} {'mode':>12} {'cites':>5}  question")
    firsts, totals = [], []
    for question in QUESTIONS:
        started, first = time.perf_counter(), None
        for event in assistant.stream(question, conversation_id=question):
            if event["type"] == "token" and first is None:
                first = time.perf_counter() - started
            if event["type"] == "answer":
                answer = event["answer"]
        total = time.perf_counter() - started
        first = total if first is None else first
        firsts.append(first)
        totals.append(total)
        print(f"{first:13.2f} {total:8.2f} {answer.mode:>12} {len(answer.citations):5d}  {question}")
    print(f"{statistics.median(firsts):13.2f} {statistics.median(totals):8.2f} {'median':>12}")


def calibrate(settings: Settings) -> None:
    from agents.grounding import best_similarity
    from retrieval import NotesIndex

    index = NotesIndex.load_or_build(settings, progress=False)
    rows = [(q, True) for q in QUESTIONS] + [(q, False) for q in OUT_OF_SCOPE]
    scores = {True: [], False: []}
    for question, in_scope in rows:
        score = best_similarity(index.search(question, k=5))
        scores[in_scope].append(score)
        print(f"{'in ' if in_scope else 'out'} {score:.3f}  {question}")
    print(f"lowest in-scope {min(scores[True]):.3f}, highest out-of-scope {max(scores[False]):.3f}, "
          f"threshold now {settings.coverage_min_similarity:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default="embedded", help="embedded (default), an OpenAI-compatible URL, ...")
    parser.add_argument("--agent-mode", choices=("auto", "agent", "grounded"))
    parser.add_argument("--max-tokens", type=int, help="most tokens per model call")
    parser.add_argument("--calibrate", action="store_true", help="print the coverage similarities instead")
    args = parser.parse_args()
    settings = Settings.load(llm=args.llm, agent_mode=args.agent_mode, llm_max_tokens=args.max_tokens)
    calibrate(settings) if args.calibrate else bench_answers(settings)


if __name__ == "__main__":
    main()
