"""The Chat tab: streamed answers, the agent's steps as collapsible messages, citations opening their sources.

Each browser session has its own conversation id (kept in ``gr.State``), so the assistant's per-id history
never mixes two students. "New conversation" forgets the history and starts a fresh id.
"""

from __future__ import annotations

import html
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from agents.conversation import save_conversation
from agents.events import AnswerEvent, StepEvent, TokenEvent
from coursemate.errors import CoursemateError
from retrieval.index import check_query
from ui.citations import link_markers, sources_html
from ui.errors import user_message
from ui.services import Services
from ui.training import POLL_SECONDS, run_status_markdown

EXAMPLES = [
    "What do the gates of an LSTM do?",
    "Why does ResNet use skip connections?",
    "What is batch normalization and why does it help?",
    "How does the receptive field grow in a CNN?",
]
NO_SOURCES = "The passages cited by the answers appear here. Click a [n] in an answer to open its source."
STEP_OUTPUT_CHARS = 600
UNSUPPORTED = "No passage of the notes supports this sentence."
TRAINING_TAB = "loss and accuracy curves plot live in the **Training** tab"


def check_message(message: str) -> str:
    """The message without surrounding blanks; CoursemateError when it is empty, too long or has no words."""
    if not message or not message.strip():
        raise CoursemateError("the message is empty: type a question about the course")
    return check_query(message).strip()


def step_message(step: dict[str, Any]) -> gr.ChatMessage:
    """A collapsible "thought" for one trace step: the tool or stage, its arguments and its result."""
    who = f" · {step['agent']}" if step.get("agent") else ""
    title = f"{step.get('kind', 'step').replace('_', ' ')}: {step.get('name', '')}{who}"
    lines = []
    if step.get("arguments"):
        lines.append("**Arguments**\n```json\n" + json.dumps(step["arguments"], indent=1, ensure_ascii=False) + "\n```")
    output = str(step.get("output") or "").strip()
    if output:
        shown = output if len(output) <= STEP_OUTPUT_CHARS else output[:STEP_OUTPUT_CHARS] + " …"
        lines.append("**Result**\n```text\n" + shown + "\n```")
    if step.get("error"):
        lines.append(f"**Error:** {step['error']}")
    metadata = {"title": title, "status": "done"}
    if step.get("seconds"):
        metadata["duration"] = float(step["seconds"])
    return gr.ChatMessage(content="\n\n".join(lines) or "(no details)", role="assistant", metadata=metadata)


def answer_markdown(answer: Any, group: str) -> str:
    """The final answer: "did you mean", the text with clickable [n] markers and its unsupported sentences marked,
    what the notes say beside an answer with unsupported sentences, the notice and the model."""
    parts = []
    if answer.did_you_mean:
        parts.append(f'<div class="did-you-mean">Did you mean: <em>{html.escape(answer.did_you_mean)}</em>?</div>')
    numbers = [c.n for c in answer.citations]
    text = tool_markdown(answer.tool_result) if answer.tool_result else answer.answer
    for sentence in (s.text for s in answer.sentences if not s.supported):
        text = text.replace(sentence, f'<span class="unsupported" title="{UNSUPPORTED}">{sentence}</span>'
                                      '<span class="unsupported-tag">(not in the notes)</span>', 1)
    parts.append(link_markers(text, group, numbers))
    if answer.extractive:
        parts.append(f'<div class="notes-say"><strong>What the notes say:</strong> '
                     f'{link_markers(answer.extractive, group, numbers)}</div>')
    if answer.notice:
        parts.append(f'<div class="notice">{html.escape(answer.notice)}</div>')
    parts.append(f'<div class="answered-by">answered by {html.escape(answer.model or "?")} · mode {answer.mode}</div>')
    return "\n\n".join(parts)


def tool_markdown(result) -> str:
    """A routed request's result in the chat: a started run with its id and where it plots, a comparison as a
    table, a spelling fix with its changes, a run list as a table, an error or clarifying question as such; a
    summary, search or quiz as its cited text."""
    data = result.data
    if result.intent == "error":
        return f"**Error:** {html.escape(data['error'])}"
    if result.intent == "train":
        config = data["config"]
        return (f"Started training run `{data['run_id']}`: {config['model']} on {config['dataset']}, "
                f"{config['epochs']} epochs (batch size {config['batch_size']}, {config['optimizer']} lr "
                f"{config['lr']:g}). Its live status shows under the chat; its {TRAINING_TAB}.")
    if result.intent == "compare_runs":
        return f"Comparison of {len(data['rows'])} runs:\n\n{result.text}"
    if result.intent == "spell":
        changes = "".join(f"<li><del>{html.escape(w)}</del> → <ins>{html.escape(r)}</ins></li>"
                          for w, r in data["changes"])
        return (f'<div class="tool-result spelling">{html.escape(data["corrected"])}</div>'
                + (f'<ul class="spelling-changes">{changes}</ul>' if changes else "<p>(no spelling changes)</p>"))
    if result.intent == "list_runs":
        return f"```text\n{result.text}\n```"
    return result.text


def chat_runs_markdown(services: Services, turns: list[dict[str, Any]]) -> str:
    """Live status of the runs this chat session started, newest first."""
    ids = [t["tool_result"]["data"]["run_id"] for t in turns
           if (t.get("tool_result") or {}).get("intent") == "train"]
    if not ids:
        return ""
    lines = []
    for run_id in reversed(ids):
        try:
            lines.append(run_status_markdown(services.runs.status(run_id)))
        except CoursemateError as exc:
            lines.append(f"**Run `{run_id}`**: {exc}")
    return "#### Runs started in this chat\n\n" + "\n\n".join(lines) + f"\n\nTheir {TRAINING_TAB}."


def export_conversation(conversation_id: str | None, turns: list[dict[str, Any]]) -> str:
    """Write the conversation (every answer with its citations and trace) to a JSON file; return its path."""
    if not turns:
        raise CoursemateError("nothing to export yet: ask a question first")
    folder = Path(tempfile.mkdtemp(prefix="coursemate-export-"))
    return str(save_conversation(folder / f"coursemate-conversation-{conversation_id}.json", conversation_id, turns))


def build_chat_tab(services: Services) -> None:
    """The Chat tab's components and events (call inside a ``gr.Tab``)."""
    conversation_id = gr.State(None)
    turns = gr.State([])  # this session's answers as dicts (exported as JSON)
    groups = gr.State([])  # (group, heading, citations) per answer, for the sources panel
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="coursemate", height=560, elem_id="chatbot", sanitize_html=True,
                                 buttons=["copy"], placeholder="Ask a question about the course notes.")
            with gr.Row(equal_height=True):
                message = gr.Textbox(placeholder="Ask about the course… (Enter to send)", show_label=False,
                                     scale=5, elem_id="chat-input", autofocus=True)
                send = gr.Button("Send", variant="primary", scale=1, elem_id="chat-send")
            gr.Examples(EXAMPLES, inputs=message, label="Try")
            with gr.Row():
                new = gr.Button("New conversation", elem_id="chat-new", size="sm")
                export = gr.Button("Export conversation + trace (JSON)", elem_id="chat-export", size="sm")
            export_file = gr.File(label="Export", visible=False, elem_id="chat-export-file")
            chat_runs = gr.Markdown("", elem_id="chat-runs")
        with gr.Column(scale=2):
            gr.Markdown("### Sources")
            sources = gr.HTML(sources_html([], NO_SOURCES), elem_id="sources-panel")

    def respond(text: str, history: list, conv_id: str | None, done: list, source_groups: list, request: gr.Request):
        """Stream one answer: steps as they end, tokens as they are written, then the cited answer (runs the
        agents start belong to the signed-in user, ``request.username``)."""
        conv_id = conv_id or uuid.uuid4().hex
        try:
            question = check_message(text)
        except CoursemateError as exc:
            gr.Warning(str(exc))
            yield gr.skip(), history, conv_id, done, source_groups, gr.skip()
            return
        history = list(history) + [gr.ChatMessage(content=question, role="user")]
        yield "", history, conv_id, done, source_groups, gr.skip()
        group = f"c{len(done) + 1}"
        written, answer_at = "", None  # the streamed answer's text and its place in the history
        try:
            for event in services.assistant().stream(question, conversation_id=conv_id, user=request.username):
                if isinstance(event, StepEvent):
                    if answer_at is None:
                        history.append(step_message(event.step))
                    else:  # a step that ends after the answer was streamed (the model call) goes above it
                        history.insert(answer_at, step_message(event.step))
                        answer_at += 1
                elif isinstance(event, TokenEvent):
                    if answer_at is None:
                        answer_at = len(history)
                        history.append(None)
                    written += event.text
                    history[answer_at] = gr.ChatMessage(content=written, role="assistant")
                elif isinstance(event, AnswerEvent):
                    answer = event.answer
                    final = gr.ChatMessage(content=answer_markdown(answer, group), role="assistant")
                    if answer_at is None:
                        history.append(final)
                    else:
                        history[answer_at] = final
                    done = done + [answer.to_dict()]
                    heading = f"Answer {len(done)}: {question[:80]}"
                    source_groups = source_groups + [(group, heading, list(answer.citations))]
                    yield gr.skip(), history, conv_id, done, source_groups, sources_html(source_groups, NO_SOURCES)
                    return
                yield gr.skip(), history, conv_id, done, source_groups, gr.skip()
        except Exception as exc:  # noqa: BLE001 - the answer fails, the app keeps serving
            history.append(gr.ChatMessage(content=f"**Error:** {user_message(exc)}", role="assistant"))
            yield gr.skip(), history, conv_id, done, source_groups, gr.skip()

    def new_conversation(conv_id: str | None):
        if conv_id:
            services.assistant().conversations.reset(conv_id)
        return [], uuid.uuid4().hex, [], [], sources_html([], NO_SOURCES), gr.update(value=None, visible=False)

    def on_export(conv_id: str | None, done: list):
        try:
            return gr.update(value=export_conversation(conv_id, done), visible=True)
        except CoursemateError as exc:
            gr.Warning(str(exc))
            return gr.skip()

    chat_outputs = [message, chatbot, conversation_id, turns, groups, sources]
    chat_inputs = [message, chatbot, conversation_id, turns, groups]
    send.click(respond, chat_inputs, chat_outputs, api_name=False)
    message.submit(respond, chat_inputs, chat_outputs, api_name="chat")  # also bench/load.py's entry (gradio_client)
    new.click(new_conversation, conversation_id, [chatbot, conversation_id, turns, groups, sources, export_file],
              api_name=False)
    export.click(on_export, [conversation_id, turns], export_file, api_name=False)
    gr.Timer(POLL_SECONDS).tick(lambda done: chat_runs_markdown(services, done), turns, chat_runs, api_name=False,
                                show_progress="hidden")
