"""Faults: a training worker killed with SIGKILL, the LLM server killed mid-stream, an index write interrupted,
and many sessions coming and going. Every one ends in a clear state, and the app keeps serving.

The UI runs in this process on a loopback port (tests/test_ui_browser.serve_app) and is driven through
``gradio_client``, as bench/load.py drives it; the LLM server and the index writer are real processes killed
with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coursemate.config import Settings
from test_ui_browser import serve_app, wait_for

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTES = REPO_ROOT / "data" / "notes"
QUESTION = "What do the gates of an LSTM do?"


def ask_ui(client, question: str) -> str:
    """The chat's final answer (HTML) for ``question``, asked through the UI's ``/chat`` endpoint."""
    result = client.predict(question, [], api_name="/chat")
    history = result[1]
    return str(history[-1]["content"])


# ----------------------------------------------------------------------------------------------- training worker
def test_a_killed_training_worker_fails_its_run_clearly_and_the_ui_keeps_serving(small_notes_index, tmp_path):
    from gradio_client import Client

    settings = small_notes_index.settings.replace(llm="extractive", runs_dir=tmp_path / "runs")
    with serve_app(settings, small_notes_index) as (url, services):
        client = Client(url, verbose=False)
        before = set(r.id for r in services.runs.list())
        client.predict("digits", "mnist_cnn", 200, 16, "sgd", 0.05, "onecycle", 0, False, api_name="/start_training")
        (run_id,) = set(r.id for r in services.runs.list()) - before
        wait_for(lambda: services.runs.status(run_id).status == "running"
                 and services.runs.metrics(run_id), 180, "the run's first epoch")
        pid = services.runs.status(run_id).pid
        os.kill(pid, signal.SIGKILL)
        summary = wait_for(lambda: (lambda s: s if s.status == "failed" else None)(services.runs.status(run_id)),
                           30, "the run to be marked failed")
        assert f"worker process {pid} died while the run was running" in summary.error
        assert "SIGKILL" in summary.error and summary.finished_at
        assert len(services.runs.metrics(run_id)) >= 1  # the epochs recorded before the kill are kept
        answer = ask_ui(client, QUESTION)  # the app still answers, with citations
        assert 'class="cite"' in answer and "gate" in answer.lower()
        client.close()


# ----------------------------------------------------------------------------------------------- LLM server
STREAMING_SERVER = textwrap.dedent('''
    """An OpenAI-compatible server that streams an answer slowly, word by word, until it is killed."""
    import http.server, json, sys, time

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "slow-model", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")  # as vLLM streams: a cut is visible to the client
            self.end_headers()
            for n in range(10_000):
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "slow-model",
                         "choices": [{"index": 0, "delta": {"content": f"word{n} "}, "finish_reason": None}]}
                event = f"data: {json.dumps(chunk)}\\n\\n".encode()
                self.wfile.write(b"%x\\r\\n%s\\r\\n" % (len(event), event))
                self.wfile.flush()
                time.sleep(0.05)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
''')


def test_the_llm_server_killed_mid_stream_gives_cited_passages_and_a_notice(small_notes_index):
    from coursemate.agents import CourseAssistant
    from coursemate.agents.events import AnswerEvent, TokenEvent

    server = subprocess.Popen([sys.executable, "-c", STREAMING_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        settings = small_notes_index.settings.replace(llm=f"http://127.0.0.1:{port}/v1", agent_mode="grounded",
                                                      llm_timeout=20.0)
        assistant = CourseAssistant(settings, index=small_notes_index)
        tokens, answer = [], None
        for event in assistant.stream(QUESTION, conversation_id="killed"):
            if isinstance(event, TokenEvent):
                tokens.append(event.text)
                if len(tokens) == 3:
                    server.send_signal(signal.SIGKILL)  # the server dies in the middle of its answer
            elif isinstance(event, AnswerEvent):
                answer = event.answer
    finally:
        server.kill()
        server.wait(timeout=10)
    assert len(tokens) >= 3 and server.returncode == -signal.SIGKILL
    assert answer.mode == "extractive" and answer.citations
    assert answer.notice and "failed" in answer.notice and "sentences from the notes" in answer.notice
    assert any(c.doc_id == "post-lstm-one-pager" for c in answer.citations)
    assert any(s.kind == "generation" and s.error for s in answer.trace.steps)


# ----------------------------------------------------------------------------------------------- index writes
INTERRUPTED_BUILD = textwrap.dedent('''
    """Rebuild (or update: "update") the index and die (SIGKILL, no clean-up) in the middle of writing FILE."""
    import os, signal, sys
    from pathlib import Path
    from coursemate.config import Settings
    from coursemate.retrieval import NotesIndex, dense, sentences, sparse

    home, notes, victim, how = sys.argv[1:5]
    targets = {"dense": (dense.DenseIndex, "save"), "sentences": (sentences.SentenceIndex, "save")}
    cls, name = targets[victim]
    original = getattr(cls, name)

    def dying_save(self, folder):
        original(self, folder)
        for path in Path(folder).iterdir():  # leave a half-written file behind, then die at once
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(cls, name, dying_save)
    NotesIndex.load_or_build(Settings.load(home=home, corpus_paths=[notes]), rebuild=how == "rebuild", progress=False)
''')


@pytest.mark.parametrize(("victim", "how"), [("dense", "rebuild"), ("sentences", "rebuild"), ("dense", "update")])
def test_an_interrupted_index_write_leaves_the_previous_index_loading(tmp_path, victim, how):
    """A full rebuild, or an update adding a document (``how``), killed mid-write."""
    from coursemate.retrieval import NotesIndex

    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("post-lstm-one-pager", "post-what-is-relu"):
        shutil.copy(NOTES / f"{name}.md", notes)
    settings = Settings.load(home=tmp_path / "home", corpus_paths=[notes])
    first = NotesIndex.load_or_build(settings, progress=False)
    added = notes / "blog-googlenet.md"
    if how == "update":
        shutil.copy(NOTES / added.name, added)
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_BUILD, str(settings.home), str(notes), victim, how],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert any(p.name.startswith(".index.tmp-") for p in settings.index_dir.parent.iterdir())  # it died mid-write
    added.unlink(missing_ok=True)
    again = NotesIndex.load_or_build(settings, progress=False)
    assert again.manifest["built_at"] == first.manifest["built_at"]  # the previous index, loaded, not rebuilt
    assert again.search("what do LSTM gates do?", k=1)[0].chunk.doc_id == "post-lstm-one-pager"


# ----------------------------------------------------------------------------------------------- sessions
def test_the_assistant_keeps_a_bounded_number_of_conversations(small_notes_index):
    from coursemate.agents import CourseAssistant

    settings = small_notes_index.settings.replace(llm="extractive", max_conversations=10)
    assistant = CourseAssistant(settings, index=small_notes_index)
    for n in range(40):
        assistant.ask("what does relu do?", conversation_id=f"browser-{n}")
    kept = assistant.conversations.ids()
    assert kept == [f"browser-{n}" for n in range(30, 40)]  # the 10 most recent, least recently used first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_ui_is_a_clear_error_of_the_load_bench():
    result = subprocess.run([sys.executable, "bench/load.py", "--url", f"http://127.0.0.1:{free_port()}/",
                             "--sessions", "1", "--questions", "1"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("load: error: cannot reach")
