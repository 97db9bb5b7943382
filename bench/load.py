"""Load test of the chat UI: N concurrent browser sessions, M questions each, a training run and a study quiz.

    python bench/load.py --sessions 8,32,64 --questions 10 [--think 2] [--url URL [--pid PID]] [--json]

Without ``--url`` it starts ``coursemate ui`` on a free loopback port (answers as configured: offline, the
extractive default) and stops it afterwards. Each session is its own Gradio session and conversation (Gradio's
queue protocol over one shared async HTTP client, see :class:`Session`) asking course questions through the chat's
``/chat`` endpoint, one after the other, pausing ``--think`` seconds between them (as a student reading the answer
would: each pause drawn uniformly from 0.5x to 1.5x, and the sessions' first questions spread over one pause, so
that they do not ask in lockstep); session 0 first starts a short training run through ``/start_training``, and
session 1 (session 0 when it is alone) then takes a quiz in the Study tab (``/study_quiz``, then ``/study_mark`` for
its first questions), pausing as well; every request counts in the figures. Each size of ``--sessions`` runs in turn
against the same server, and one row each is printed as a Markdown table (``--json``: a list of figures): latencies
per request as a client sees them (queueing included), throughput (the chat's answers per second of the run's wall
time; ``--json`` also gives all requests per second), and the UI process's resident memory before and after (with
``--url``, only when ``--pid`` names that process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

QUESTIONS_FILE = REPO_ROOT / "eval" / "datasets" / "course_questions.jsonl"
TRAINING = ("digits", "mlp", 2, 64, "sgd", 0.05, "onecycle", 0, False)  # the Training tab's form, in its order
STUDY_SESSION = 1  # this session (session 0 when it is alone) takes a quiz after its questions
STUDY_QUIZ = ("all", "", "cloze")  # the Study tab's form: all the notes, no topic, cloze questions
STUDY_MARKS = 5  # quiz questions it answers, alternately right and wrong
START_SECONDS = 600.0


class LoadError(Exception):
    """The load test cannot run (unreachable UI, the UI failed to start); the message says why."""


def questions(count: int) -> list[str]:
    """``count`` course questions (answerable ones, in file order)."""
    from coursemate.io import read_jsonl

    rows = [r["question"] for r in read_jsonl(QUESTIONS_FILE) if not r.get("out_of_scope")]
    return rows[:count] if count <= len(rows) else (rows * (count // len(rows) + 1))[:count]


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of process ``pid`` in MB (None when unknown)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) process ``pid`` has used so far (None when unknown)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ui(extra: list[str]) -> tuple[subprocess.Popen, str]:
    """``coursemate ui`` on a free loopback port; returns the process and its URL once it serves."""
    port = free_port()
    command = [sys.executable, "-m", "coursemate.cli", "ui", "--port", str(port), *extra]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    deadline, lines = time.monotonic() + START_SECONDS, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise LoadError("coursemate ui exited before serving: " + "".join(lines[-5:]).strip())
        lines.append(line)
        if "Running on local URL" in line:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain its output
            return process, f"http://127.0.0.1:{port}/"
    process.kill()
    raise LoadError(f"coursemate ui did not serve within {START_SECONDS:.0f} s")


class Session:
    """One browser session speaking Gradio's queue protocol (what the page and gradio_client send: join the queue
    with a POST, read the events of the session from one server-sent-event stream), over a shared async HTTP
    client, so that 64 sessions cost the machine little besides what the server does."""

    def __init__(self, http, url: str, endpoints: dict[str, tuple[int, list[bool]]]) -> None:
        self.http, self.url, self.endpoints = http, url, endpoints
        self.session_hash = uuid.uuid4().hex[:12]

    async def call(self, api_name: str, *arguments) -> tuple[bool, str, Any]:
        """Call the endpoint ``api_name``; ``(success, the text of its outputs, its first output's last value)``."""
        fn_index, is_state = self.endpoints[api_name]
        values = iter(arguments)
        data = [None if state else next(values) for state in is_state]
        joined = await self.http.post(f"{self.url}gradio_api/queue/join", json={
            "data": data, "fn_index": fn_index, "trigger_id": None, "event_data": None,
            "session_hash": self.session_hash})
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        outputs: list[str] = []
        value = None
        async with self.http.stream("GET", f"{self.url}gradio_api/queue/data",
                                    params={"session_hash": self.session_hash}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (event_id, None):
                    continue
                if "output" in message:
                    outputs.append(json.dumps(message["output"], ensure_ascii=False))
                    value = (message["output"].get("data") or [value])[0]
                if message["msg"] == "process_completed":
                    return bool(message.get("success")), "".join(outputs), value
                if message["msg"] in ("close_stream", "unexpected_error"):
                    break
        raise LoadError(f"the event stream of {api_name} ended before its result")


async def endpoints_of(http, url: str) -> dict[str, tuple[int, list[bool]]]:
    """``{"/chat": (fn_index, which inputs are session state)}`` for every named endpoint of the app at ``url``."""
    try:
        response = await http.get(f"{url}config")
        response.raise_for_status()
        config = response.json()
    except Exception as exc:  # noqa: BLE001 - any failure to connect is one clear line
        raise LoadError(f"cannot reach the UI at {url} ({type(exc).__name__}: {exc})") from None
    state_ids = {c["id"] for c in config["components"] if c.get("type") == "state"}
    return {f"/{d['api_name']}": (d["id"], [i in state_ids for i in d["inputs"]])
            for d in config["dependencies"] if d.get("api_name")}


async def run_session(session: Session, number: int, asked: list[str], think: float, studies: bool,
                      latencies: list[float], errors: list[str], cited_answers: list[float]) -> None:
    """One browser session: (session 0: start a training run, then) ask every question, (``studies``: then take
    a quiz in the Study tab,) timing each request and pausing about ``think`` seconds between them.

    An error is a request that failed, an answer showing the chat's error message or a quiz without questions;
    answers with citations are counted apart (a refusal or a routed tool result is a correct answer without
    any)."""
    pause = random.Random(number)
    await asyncio.sleep(pause.uniform(0, think))
    requests = 0

    async def timed(api_name: str, *arguments) -> Any:
        """One request, after a pause unless it is the session's first; its value (None when it failed)."""
        nonlocal requests
        if requests:
            await asyncio.sleep(pause.uniform(0.5 * think, 1.5 * think))
        requests += 1
        started = time.perf_counter()
        value = None
        try:
            success, text, value = await session.call(api_name, *arguments)
            problem = None if success else f"{api_name}: the request failed: {text[:160]!r}"
            if api_name == "/chat" and "**Error:**" in text:
                problem = f"{api_name}: the chat showed an error: {text[text.index('**Error:**'):][:160]!r}"
            if api_name == "/study_quiz" and success and not value:
                problem = f"{api_name}: the quiz has no questions"
            cited = 'class=\\"cite\\"' in text
        except Exception as exc:  # noqa: BLE001 - counted as an error of this request
            problem, cited = f"{api_name}: {type(exc).__name__}: {exc}", False
        elapsed = (time.perf_counter() - started) * 1000
        latencies.append(elapsed)
        if problem:
            errors.append(problem)
        if api_name == "/chat" and cited:
            cited_answers.append(elapsed)
        return None if problem else value

    if number == 0:
        await timed("/start_training", *TRAINING)
    for question in asked:
        await timed("/chat", question, [])
    if studies:
        quiz = await timed("/study_quiz", *STUDY_QUIZ) or []
        for turn, item in enumerate(quiz[:STUDY_MARKS]):
            await timed("/study_mark", item, turn % 2 == 0, f"bench-{session.session_hash}")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def load(url: str, sessions: int, per_session: int, pid: int | None, think: float = 0.0) -> dict:
    """Drive ``sessions`` concurrent sessions of ``per_session`` questions against ``url``, pausing about ``think``
    seconds between a session's questions; the figures."""
    return asyncio.run(_load(url, sessions, per_session, pid, think))


async def _load(url: str, sessions: int, per_session: int, pid: int | None, think: float) -> dict:
    import httpx

    asked = questions(sessions * per_session)
    latencies: list[float] = []
    errors: list[str] = []
    cited_answers: list[float] = []
    limits = httpx.Limits(max_connections=4 * sessions + 8, max_keepalive_connections=4 * sessions + 8)
    async with httpx.AsyncClient(timeout=httpx.Timeout(600.0), limits=limits) as http:
        endpoints = await endpoints_of(http, url)  # fail fast, before the sessions
        before, server_cpu, bench_cpu = rss_mb(pid), cpu_seconds(pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(run_session(Session(http, url, endpoints), n,
                                           asked[n * per_session:(n + 1) * per_session], think,
                                           n == min(STUDY_SESSION, sessions - 1), latencies, errors, cited_answers)
                               for n in range(sessions)))
        wall = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - server_cpu if server_cpu is not None else None
    bench_cpu = time.process_time() - bench_cpu
    return {
        "sessions": sessions, "think_seconds": think, "requests": len(latencies), "errors": len(errors),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "rss_mb_before": before, "rss_mb_after": rss_mb(pid),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "cited_answers": len(cited_answers), "wall_seconds": round(wall, 1),
        "requests_per_second": round(len(latencies) / wall, 2),
        "answers_per_second": round(len(asked) / wall, 2),  # the chat's answers (without training and quiz)
        "server_cpu_ms_per_request": round(server_cpu * 1000 / len(latencies), 1) if server_cpu and latencies else None,
        "bench_cpu_ms_per_request": round(bench_cpu * 1000 / len(latencies), 1) if latencies else None,
        "load_average": round(os.getloadavg()[0], 1),
        "first_errors": errors[:5],
    }


TABLE = (("sessions", "sessions"), ("requests", "requests"), ("errors", "errors"), ("p50 ms", "p50_ms"),
         ("p95 ms", "p95_ms"), ("max ms", "max_ms"), ("answers/s", "answers_per_second"),
         ("RSS MB before", "rss_mb_before"), ("RSS MB after", "rss_mb_after"),
         ("server CPU ms/request", "server_cpu_ms_per_request"), ("bench CPU ms/request", "bench_cpu_ms_per_request"),
         ("load average", "load_average"))


def table(rows: list[dict]) -> str:
    """The figures of each size as a Markdown table."""
    lines = ["| " + " | ".join(h for h, _ in TABLE) + " |", "| " + " | ".join("---" for _ in TABLE) + " |"]
    lines += ["| " + " | ".join(str(row[key]) for _, key in TABLE) + " |" for row in rows]
    return "\n".join(lines)


def sizes(text: str) -> list[int]:
    """``"8,32,64"`` as ``[8, 32, 64]``; ValueError unless each is a positive integer."""
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise ValueError(text)
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="8",
                        help="concurrent browser sessions; several sizes, comma-separated, run in turn (default 8)")
    parser.add_argument("--questions", type=int, default=10, help="questions per session (default 10)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a session pauses between its questions, on average (default 0)")
    parser.add_argument("--url", help="a running UI (default: start `coursemate ui` on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the UI's process id, to report its memory")
    parser.add_argument("--ui-args", default="",
                        help="extra arguments for the started `coursemate ui`, e.g. '--llm none'")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (default: a Markdown table)")
    args = parser.parse_args(argv)
    try:
        counts = sizes(args.sessions)
    except ValueError:
        counts = []
    if not counts or args.questions < 1 or not 0 <= args.think < 3600:
        print("load: error: --sessions must be positive integers (8 or 8,32,64), --questions at least 1 and --think "
              "between 0 and 3600 seconds", file=sys.stderr)
        return 2
    process = None
    try:
        if args.url:
            url, pid = args.url, args.pid
        else:
            process, url = start_ui(args.ui_args.split())
            pid = process.pid
        rows = [load(url, count, args.questions, pid, args.think) for count in counts]
    except LoadError as exc:
        print(f"load: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{args.questions} questions per session, think time {args.think:g} s, load average "
              f"{os.getloadavg()[0]:.1f} at the end")
        print(table(rows))
        for row in rows:
            for problem in row["first_errors"]:
                print(f"error ({row['sessions']} sessions): {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
