"""Load test of the chat UI: N concurrent browser sessions (gradio_client), M questions each, one training run.

    python bench/load.py --sessions 8 --questions 10 [--url URL [--pid PID]] [--json]

Without ``--url`` it starts ``coursemate ui`` on a free loopback port (answers as configured: offline, the
extractive default) and stops it afterwards. Each session is its own gradio_client ``Client`` (its own session and
conversation) asking course questions through the chat's ``/chat`` endpoint, one after the other; session 0 first
starts a short training run through ``/start_training``. Prints ``{"sessions", "requests", "errors", "p50_ms",
"p95_ms", "rss_mb_before", "rss_mb_after", ...}``: latencies are per request, as a client sees them (queueing
included); RSS is the UI process's resident memory (with ``--url``, only when ``--pid`` names that process).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

QUESTIONS_FILE = REPO_ROOT / "eval" / "datasets" / "course_questions.jsonl"
TRAINING = ("digits", "mlp", 2, 64, "sgd", 0.05, "onecycle", 0, False)  # the Training tab's form, in its order
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


def connect(url: str):
    from gradio_client import Client

    try:
        return Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is one clear line
        raise LoadError(f"cannot reach the UI at {url} ({type(exc).__name__}: {exc})") from None


def run_session(url: str, number: int, asked: list[str], latencies: list[float], errors: list[str],
                cited_answers: list[float], lock: threading.Lock) -> None:
    """One browser session: (session 0: start a training run, then) ask every question, timing each request.

    An error is a request that failed or an answer showing the chat's error message; answers with citations
    are counted apart (a refusal or a routed tool result is a correct answer without any)."""
    try:
        client = connect(url)
    except LoadError as exc:
        with lock:
            errors.append(str(exc))
        return
    calls = ([("/start_training", TRAINING)] if number == 0 else []) + [("/chat", (q, [])) for q in asked]
    for api_name, arguments in calls:
        started = time.perf_counter()
        try:
            result = client.predict(*arguments, api_name=api_name)
            final = str(result[1][-1]["content"]) if api_name == "/chat" and result[1] else ""
            problem = f"{api_name}: the chat showed an error: {final[:160]!r}" if "**Error:**" in final else None
            cited = 'class="cite"' in final
        except Exception as exc:  # noqa: BLE001 - counted as an error of this request
            problem, cited = f"{api_name}: {type(exc).__name__}: {exc}", False
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            if problem:
                errors.append(problem)
            if api_name == "/chat" and cited:
                cited_answers.append(elapsed)
    client.close()


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def load(url: str, sessions: int, per_session: int, pid: int | None) -> dict:
    """Drive ``sessions`` concurrent sessions of ``per_session`` questions against ``url``; the figures."""
    connect(url).close()  # fail fast, before the threads
    asked = questions(sessions * per_session)
    latencies: list[float] = []
    errors: list[str] = []
    cited_answers: list[float] = []
    lock = threading.Lock()
    before = rss_mb(pid)
    threads = [threading.Thread(target=run_session, args=(url, n, asked[n * per_session:(n + 1) * per_session],
                                                          latencies, errors, cited_answers, lock))
               for n in range(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "sessions": sessions, "requests": len(latencies), "errors": len(errors),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "rss_mb_before": before, "rss_mb_after": rss_mb(pid),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "cited_answers": len(cited_answers), "wall_seconds": round(wall, 1),
        "requests_per_second": round(len(latencies) / wall, 2),
        "first_errors": errors[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="concurrent browser sessions (default 8)")
    parser.add_argument("--questions", type=int, default=10, help="questions per session (default 10)")
    parser.add_argument("--url", help="a running UI (default: start `coursemate ui` on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the UI's process id, to report its memory")
    parser.add_argument("--ui-args", default="",
                        help="extra arguments for the started `coursemate ui`, e.g. '--llm none'")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (default: one line each)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.questions < 1:
        print("load: error: --sessions and --questions must be at least 1", file=sys.stderr)
        return 2
    process = None
    try:
        if args.url:
            url, pid = args.url, args.pid
        else:
            process, url = start_ui(args.ui_args.split())
            pid = process.pid
        figures = load(url, args.sessions, args.questions, pid)
    except LoadError as exc:
        print(f"load: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name:20} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
