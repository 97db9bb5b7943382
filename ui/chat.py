"""The Chat tab: streamed answers, the agent's steps as collapsible messages, citations opening their sources.

Each browser session has its own conversation id (kept in ``gr.State``), so the assistant's per-id history
never mixes two students. The browser also keeps the id in its local storage: the conversation lives in the home's
state store, so a reload, or a restart of the server, shows it again and its follow-ups go on from it.
"New conversation" forgets the history and starts a fresh id. Every answer is logged for the instructor
(:meth:`coursemate.state.StateStore.log_question`). An answer that proposes
an action (a run to start or cancel, see :class:`agents.events.PendingAction`) shows two buttons under the chat:
its confirmation ("Start") and "Not now"; the action is kept server-side, in the session's ``gr.State``.
"""

from __future__ import annotations

import html
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from coursemate.agents.conversation import save_conversation
from coursemate.agents.events import AnswerEvent, StepEvent, TokenEvent
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.retrieval.index import check_query
from coursemate.state import CitedSource
from coursemate.tools.grounding.citations import Citation
from coursemate.tools.grounding.render import link_markers, sources_html
from coursemate.ui.errors import user_message
from coursemate.ui.limits import HISTORY_CHARS_PER_MESSAGE
from coursemate.ui.services import Services
from coursemate.ui.training import POLL_SECONDS, run_status_markdown

EXAMPLES = [
    "What do the gates of an LSTM do?",
    "Why does ResNet use skip connections?",
    "What is batch normalization and why does it help?",
    "How does the receptive field grow in a CNN?",
]
NO_SOURCES = "The passages cited by the answers appear here. Click a [n] in an answer to open its source."
STEP_OUTPUT_CHARS = 600
STREAM_SECONDS = 0.2  # the least time between two updates of a streamed answer (each re-sends the conversation)
UNSUPPORTED = "No passage of the notes supports this sentence."
DECLINE_LABEL = "Not now"
KEEP_BUTTONS = (gr.skip(), gr.skip(), gr.skip())  # the pending action and its buttons left as they are
DECLINED = "Not now, then: nothing was started or stopped."
TRAINING_TAB = "loss and accuracy curves plot live in the **Training** tab"


def check_message(message: str, settings: Settings) -> str:
    """The message without surrounding blanks; CoursemateError when it is not text, empty, longer than
    ``max_message_chars`` or has no words."""
    if not isinstance(message, str) or not message.strip():
        raise CoursemateError("the message is empty: type a question about the course")
    if len(message) > settings.max_message_chars:
        raise CoursemateError(f"the message is {len(message):,} characters long; the limit is "
                              f"{settings.max_message_chars:,} (max_message_chars)")
    return check_query(message).strip()


def check_history(history: Any, settings: Settings) -> list:
    """The chat history a request sent, or CoursemateError when it is not a list, holds more than
    ``max_history_messages`` questions and answers (the steps shown between them are not counted) or more text
    than that many messages may (``HISTORY_CHARS_PER_MESSAGE`` each)."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise CoursemateError("the history must be a list of chat messages")
    limit = settings.max_history_messages
    counted = sum(1 for m in history if not _is_step(m))
    if counted > limit:
        raise CoursemateError(f"the conversation has {counted:,} messages; the limit is {limit:,} "
                              "(max_history_messages): start a new conversation")
    size = len(json.dumps(history, default=str, ensure_ascii=False))
    if size > limit * HISTORY_CHARS_PER_MESSAGE:
        raise CoursemateError(f"the history is {size:,} characters long; the limit is "
                              f"{limit * HISTORY_CHARS_PER_MESSAGE:,}: start a new conversation")
    return history


def _is_step(message: Any) -> bool:
    """Whether a history message is a collapsible step (it has a title), not a question or an answer."""
    metadata = message.get("metadata") if isinstance(message, dict) else getattr(message, "metadata", None)
    return bool(metadata and isinstance(metadata, dict) and metadata.get("title"))


def checked(check: Callable[[], Any]) -> Any:
    """``check()``'s result; its CoursemateError raised as a gr.Error, which ends the request before any work and
    reaches the page and API clients alike (a warning would leave an API client an unchanged history)."""
    try:
        return check()
    except CoursemateError as exc:
        raise gr.Error(str(exc)) from None


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


def answer_markdown(answer: dict[str, Any], group: str) -> str:
    """The final answer (``Answer.to_dict()``): "did you mean", the text with clickable [n] markers and its
    unsupported sentences marked, what the notes say beside an answer with unsupported sentences, the notice and
    the model."""
    parts = []
    if answer["did_you_mean"]:
        parts.append(f'<div class="did-you-mean">Did you mean: <em>{html.escape(answer["did_you_mean"])}</em>?</div>')
    numbers = [c["n"] for c in answer["citations"]]
    text = answer["tool_result"]["markdown"] if answer["tool_result"] else answer["answer"]
    for sentence in (s["text"] for s in answer["sentences"] if not s["supported"]):
        text = text.replace(sentence, f'<span class="unsupported" title="{UNSUPPORTED}">{sentence}</span>'
                                      '<span class="unsupported-tag">(not in the notes)</span>', 1)
    parts.append(link_markers(text, group, numbers))
    if answer["extractive"]:
        parts.append(f'<div class="notes-say"><strong>What the notes say:</strong> '
                     f'{link_markers(answer["extractive"], group, numbers)}</div>')
    if answer["notice"]:
        parts.append(f'<div class="notice">{html.escape(answer["notice"])}</div>')
    parts.append(f'<div class="answered-by">answered by {html.escape(answer["model"] or "?")} · '
                 f'mode {answer["mode"]}</div>')
    return "\n\n".join(parts)


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


def _buttons(action) -> tuple:
    """The pending action's state and the confirm row's updates: shown with the action's button label for an
    action (a PendingAction), hidden for None."""
    if action is None:
        return None, gr.update(visible=False), gr.skip()
    return action, gr.update(visible=True), gr.update(value=action.label)


def _with_answer(answer: dict[str, Any], question: str, done: list, source_groups: list) -> tuple[list, list]:
    """The session's answers and source groups with ``answer`` (``Answer.to_dict()``) added."""
    group = f"c{len(done) + 1}"
    heading = f"Answer {len(done) + 1}: {question[:80]}"
    return done + [answer], source_groups + [(group, heading, [Citation(**c) for c in answer["citations"]])]


def log_answer(services: Services, user: str | None, answer: Any) -> None:
    """Log an answer of the chat for the instructor: the question, how it was answered, the coverage score of the
    notes (None for a routed request) and the passages it cited."""
    coverage = next((s.arguments.get("score") for s in answer.trace.steps if s.kind == "coverage"), None)
    sources = [CitedSource(c.chunk_id, c.doc_id, c.title, c.section) for c in answer.citations]
    services.state.log_question(user, answer.conversation_id, answer.question, answer.mode, coverage, sources,
                                services.settings.max_logged_questions)


def restored_chat(services: Services, conversation_id: str | None, user: str | None) -> tuple[list, list, list]:
    """``(chat history, answers, source groups)`` of the kept conversation ``conversation_id`` of ``user``
    (empty for an unknown id, one that expired or another user's)."""
    kept = services.state.conversation(conversation_id) if conversation_id else None
    history: list = []
    done: list = []
    source_groups: list = []
    if kept is None or kept[0] != user:
        return history, done, source_groups
    for turn in kept[1]:
        if not turn["record"]:
            continue
        history.append(gr.ChatMessage(content=turn["question"], role="user"))
        history += [step_message(step) for step in turn["record"]["steps"]]
        history.append(gr.ChatMessage(content=answer_markdown(turn["record"], f"c{len(done) + 1}"), role="assistant"))
        done, source_groups = _with_answer(turn["record"], turn["question"], done, source_groups)
    return history, done, source_groups


def export_conversation(conversation_id: str | None, turns: list[dict[str, Any]]) -> str:
    """Write the conversation (every answer with its citations and trace) to a JSON file; return its path."""
    if not turns:
        raise CoursemateError("nothing to export yet: ask a question first")
    folder = Path(tempfile.mkdtemp(prefix="coursemate-export-"))
    return str(save_conversation(folder / f"coursemate-conversation-{conversation_id}.json", conversation_id, turns))


def build_chat_tab(services: Services, app: gr.Blocks) -> None:
    """The Chat tab's components and events (call inside a ``gr.Tab`` of ``app``)."""
    conversation_id = gr.State(None)
    saved_conversation = gr.BrowserState(None, storage_key="coursemate-conversation", secret=services.browser_secret)
    turns = gr.State([])  # this session's answers as dicts (exported as JSON)
    groups = gr.State([])  # (group, heading, citations) per answer, for the sources panel
    pending = gr.State(None)  # the action the last answer proposed, until confirmed or declined
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="coursemate", height=560, elem_id="chatbot", sanitize_html=True,
                                 buttons=["copy"], placeholder="Ask a question about the course notes.")
            with gr.Row(visible=False, elem_id="chat-confirm-row") as confirm_row:
                confirm = gr.Button("Start", variant="primary", size="sm", elem_id="chat-confirm")
                decline = gr.Button(DECLINE_LABEL, size="sm", elem_id="chat-decline")
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

    def checked_history(history: Any) -> list:
        return checked(lambda: check_history(history, services.settings))

    def respond(text: str, history: list, conv_id: str | None, done: list, source_groups: list, proposed,
                request: gr.Request):
        """Stream one answer: the question at once when a model writes the answer, steps as they end and tokens as
        they are written (at most one update every ``STREAM_SECONDS``), then the cited answer; an answer made
        without a model is one update (runs the agents start belong to the signed-in user, ``request.username``).
        A new message drops a proposed action (``proposed``)."""
        question, history = checked(lambda: check_message(text, services.settings)), checked_history(history)
        kept = gr.skip()  # a session state left as it is (setting one costs the server a copy of its config)
        new_id = None if conv_id else uuid.uuid4().hex
        conv_id = conv_id or new_id
        history = list(history) + [gr.ChatMessage(content=question, role="user")]
        # what the first update sends: the emptied textbox, the new conversation's id, the proposal's buttons hidden
        box, new_state, buttons = "", new_id or kept, KEEP_BUTTONS if proposed is None else _buttons(None)
        if not services.assistant().answerer().instant:
            yield box, history, new_state, kept, kept, gr.skip(), *buttons
            box, new_state, buttons = gr.skip(), kept, KEEP_BUTTONS
        shown_at = time.monotonic()
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
                    log_answer(services, request.username, event.answer)
                    answer = event.answer.to_dict()
                    final = gr.ChatMessage(content=answer_markdown(answer, group), role="assistant")
                    if answer_at is None:
                        history.append(final)
                    else:
                        history[answer_at] = final
                    done, source_groups = _with_answer(answer, question, done, source_groups)
                    if event.answer.pending is not None:
                        buttons = _buttons(event.answer.pending)
                    yield box, history, new_state, done, source_groups, sources_html(source_groups, NO_SOURCES), \
                        *buttons
                    return
                if time.monotonic() - shown_at >= STREAM_SECONDS:
                    yield box, history, new_state, kept, kept, gr.skip(), *buttons
                    box, new_state, buttons = gr.skip(), kept, KEEP_BUTTONS
                    shown_at = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - the answer fails, the app keeps serving
            history.append(gr.ChatMessage(content=f"**Error:** {user_message(exc)}", role="assistant"))
            yield box, history, new_state, kept, kept, gr.skip(), *buttons

    def on_confirm(history: list, conv_id: str | None, done: list, source_groups: list, action,
                   request: gr.Request):
        """Carry out the proposed action (for the signed-in user) and show its result as the next answer."""
        history = checked_history(history)
        if action is None:
            raise gr.Error("there is no proposed action to confirm")
        history = list(history) + [gr.ChatMessage(content=action.label, role="user")]
        group = f"c{len(done) + 1}"
        try:
            answer = services.assistant().confirm(action, conversation_id=conv_id or "default", user=request.username)
        except Exception as exc:  # noqa: BLE001 - the action fails, the app keeps serving
            history.append(gr.ChatMessage(content=f"**Error:** {user_message(exc)}", role="assistant"))
            return history, done, source_groups, gr.skip(), *_buttons(None)
        log_answer(services, request.username, answer)
        record = answer.to_dict()
        history += [step_message(step) for step in record["steps"]]
        history.append(gr.ChatMessage(content=answer_markdown(record, group), role="assistant"))
        done, source_groups = _with_answer(record, action.prompt, done, source_groups)
        return history, done, source_groups, sources_html(source_groups, NO_SOURCES), *_buttons(None)

    def on_decline(history: list, action):
        history = checked_history(history)
        if action is not None:
            history = list(history) + [gr.ChatMessage(content=DECLINE_LABEL, role="user"),
                                       gr.ChatMessage(content=DECLINED, role="assistant")]
        return history, *_buttons(None)

    def new_conversation(conv_id: str | None):
        if conv_id:
            services.assistant().conversations.reset(conv_id)
        return ([], uuid.uuid4().hex, [], [], sources_html([], NO_SOURCES), gr.update(value=None, visible=False),
                *_buttons(None))

    def restore(saved_id: str | None, request: gr.Request):
        """The conversation this browser had (after a reload or a restart of the server), else a new one."""
        history, done, source_groups = restored_chat(services, saved_id, request.username)
        conv_id = saved_id if done else uuid.uuid4().hex
        return history, conv_id, done, source_groups, sources_html(source_groups, NO_SOURCES)

    def on_export(conv_id: str | None, done: list):
        return gr.update(value=checked(lambda: export_conversation(conv_id, done)), visible=True)

    buttons = [pending, confirm_row, confirm]
    chat_outputs = [message, chatbot, conversation_id, turns, groups, sources, *buttons]
    chat_inputs = [message, chatbot, conversation_id, turns, groups, pending]
    send.click(respond, chat_inputs, chat_outputs, api_name=False)
    message.submit(respond, chat_inputs, chat_outputs, api_name="chat")  # also bench/load.py's entry
    confirm.click(on_confirm, [chatbot, conversation_id, turns, groups, pending],
                  [chatbot, turns, groups, sources, *buttons], api_name="confirm_action")
    decline.click(on_decline, [chatbot, pending], [chatbot, *buttons], api_name="decline_action")
    new.click(new_conversation, conversation_id,
              [chatbot, conversation_id, turns, groups, sources, export_file, *buttons], api_name="new_conversation")
    export.click(on_export, [conversation_id, turns], export_file, api_name="export_conversation")
    app.load(restore, saved_conversation, [chatbot, conversation_id, turns, groups, sources], api_name=False,
             show_progress="hidden")
    conversation_id.change(lambda conv_id: conv_id, conversation_id, saved_conversation, api_name=False,
                           show_progress="hidden")
    gr.Timer(POLL_SECONDS).tick(lambda done: chat_runs_markdown(services, done), turns, chat_runs, api_name=False,
                                show_progress="hidden")
