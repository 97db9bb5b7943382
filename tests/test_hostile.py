"""What a hostile (or careless) user could break from the shell and the environment (issue 22), each case ending in
one ``coursemate: error:`` line, quickly, with nothing lost.

Defect 1: a run record out of range (epochs 1e23) broke every listing; defect 4: a web login named ``local`` could
cancel the machine owner's runs; defect 5: non-finite or nonsensical settings passed silently; defect 6: failed
logins were not slowed (the throttle's own rules, with a clock of its own); defect 8: ``--host 0.0.0.0`` without
``--auth`` served everyone as the machine's owner; defect 10: a read-only home embedded for a minute before failing.
The web side of these cases is in ``test_api_gradio_client.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursemate.cli import main
from coursemate.errors import CoursemateError

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTE = REPO_ROOT / "data" / "notes" / "post-what-is-relu.md"


def run_cli(args: list[str], home: Path, capsys, monkeypatch, env: dict[str, str] | None = None):
    """``coursemate --home HOME ARGS`` in this process: (exit code, stdout, stderr)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    try:
        code = main(["--home", str(home), *args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("coursemate: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(("args", "env", "words"), [
    (["search", "relu", "--bm25-weight", "inf"], {}, ("bm25_weight must be a finite number",)),
    (["search", "relu", "--bm25-weight", "nan"], {}, ("bm25_weight must be a finite number",)),
    (["search", "relu", "--dense-weight", "1e9"], {}, ("dense_weight must be between 0 and 100",)),
    (["runs"], {"COURSEMATE_LLM_TIMEOUT": "-1"}, ("llm_timeout must be above 0",)),
    (["runs"], {"COURSEMATE_LLM_TIMEOUT": "nan"}, ("llm_timeout must be a finite number",)),
    (["runs"], {"COURSEMATE_LLM_TIMEOUT": "0"}, ("llm_timeout must be above 0",)),
    (["runs"], {"COURSEMATE_MAX_CONCURRENT_RUNS": "-1"}, ("max_concurrent_runs must be between 1",)),
    (["runs"], {"COURSEMATE_MAX_CONCURRENT_RUNS": "0"}, ("max_concurrent_runs must be between 1",)),
    (["runs"], {"COURSEMATE_MAX_MESSAGE_CHARS": "0"}, ("max_message_chars must be between 1",)),
    (["runs"], {"COURSEMATE_PROMPTS_PATH": "/etc/passwd"}, ("prompts_path", "must map prompt names to texts")),
    (["runs"], {"COURSEMATE_PROMPTS_PATH": "/dev/zero"}, ("prompts_path", "not a regular file")),
    (["runs"], {"COURSEMATE_PROMPTS_PATH": "/no/such.yaml"}, ("prompts_path", "does not exist")),
    (["train", "--epochs", "99999999999999999999999", "--detach"], {}, ("epochs must be an integer from 1 to 10,000",)),
    (["train", "--epochs", "10001", "--detach"], {}, ("epochs must be an integer from 1 to 10,000",)),
    (["train", "--lr", "inf", "--detach"], {}, ("lr must be a finite number",)),
    (["train", "--seed", "-1", "--detach"], {}, ("seed must be an integer from 0",)),
    (["ui", "--auth", "local:secret"], {}, ("'local' is reserved for the machine's owner",)),
    (["ui", "--auth", "Local:secret"], {}, ("is reserved for the machine's owner",)),
    (["ui", "--auth", "al ice:secret"], {}, ("without blanks",)),
    (["ui", "--auth", "alice:a", "--auth", "ALICE:b"], {}, ("the same user twice",)),
    (["ui", "--host", "0.0.0.0"], {}, ("--host 0.0.0.0 serves beyond this machine", "--insecure-no-auth")),
    (["ui", "--host", "192.168.1.5"], {}, ("add --auth",)),
    (["ui", "--share"], {}, ("--share opens a public link",)),
    (["ui", "--port", "70000"], {}, ("ui_port must be between 1 and 65535",)),
])
def test_bad_values_are_one_clear_line_before_any_work(tmp_path, capsys, monkeypatch, args, env, words):
    started = time.monotonic()
    code, _, err = run_cli(args, tmp_path / "home", capsys, monkeypatch, env)
    one_error_line(code, err, *words)
    assert time.monotonic() - started < 30  # refused before indexing, training or serving
    runs = tmp_path / "home" / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # nothing was started


def test_a_run_record_out_of_range_is_listed_as_damaged_and_left_alone(tmp_path, capsys, monkeypatch):
    """Defect 1: a record with epochs 1e23 (written by an older version) broke every listing for good."""
    run = tmp_path / "home" / "runs" / "20000101-000000-old001"
    run.mkdir(parents=True)
    record = json.dumps({"id": run.name, "status": "running", "model": "mlp", "dataset": "digits",
                         "epochs": 10**23, "owner": "local"})
    (run / "summary.json").write_text(record)
    code, out, err = run_cli(["runs", "list", "--json"], tmp_path / "home", capsys, monkeypatch)
    assert code == 0, err
    listed = json.loads(out)
    assert listed[0]["status"] == "damaged" and "epochs is 100000000000000000000000" in listed[0]["error"]
    code, _, err = run_cli(["runs", "show", run.name], tmp_path / "home", capsys, monkeypatch)
    one_error_line(code, err, "is damaged", "epochs")
    code, out, err = run_cli(["runs", "cancel", run.name, "--json"], tmp_path / "home", capsys, monkeypatch)
    assert code == 0 and json.loads(out)["status"] == "damaged", err  # the machine's owner may stop it
    assert (run / "summary.json").read_text() == record  # nothing lost: the record is left as it was


def test_a_web_user_cannot_act_as_the_machine_owner(tmp_path):
    """Defect 4: ``--auth local:x`` could cancel the runs started from the command line."""
    from coursemate.config import Settings
    from coursemate.tools.training import RunManager
    from coursemate.ui.app import launch
    from coursemate.ui.login import check_users

    with pytest.raises(CoursemateError, match="reserved for the machine's owner"):
        check_users([("local", "x")])
    with pytest.raises(CoursemateError, match="reserved for the machine's owner"):
        launch(None, "127.0.0.1", 1, auth=[("local", "x")])  # the Python API refuses it too, before serving
    runs = RunManager(Settings.load(home=tmp_path))
    run_id = runs.start({"dataset": "digits", "model": "mlp", "epochs": 200})
    try:
        assert runs.status(run_id).owner == "local"
        with pytest.raises(CoursemateError, match="belongs to local; only they can cancel it"):
            runs.as_user("mallory").cancel(run_id)
    finally:
        assert runs.cancel(run_id).status == "cancelled"


def _without_root_overrides() -> list[str]:
    """A command prefix that takes from root the capabilities that write through permission bits."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): a read-only folder cannot be simulated")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_a_read_only_home_fails_at_once_before_embedding(tmp_path):
    """Defect 10: ``index --rebuild`` on a read-only home embedded for 66 s before it failed on the write."""
    home, notes = tmp_path / "home", tmp_path / "notes"
    notes.mkdir()
    notes.joinpath(NOTE.name).write_text(NOTE.read_text())
    home.mkdir()
    for folder in (tmp_path, home, notes):
        folder.chmod(0o755)
    home.chmod(0o555)
    env = {**os.environ, "COURSEMATE_HOME": str(home), "COURSEMATE_CORPUS_PATHS": str(notes)}
    prefix = _without_root_overrides()
    for command in (["index", "--rebuild"], ["ui"], ["train", "--detach"]):
        started = time.monotonic()
        done = subprocess.run([*prefix, sys.executable, "-m", "coursemate.cli", *command], env=env,
                              capture_output=True, text=True, timeout=300, cwd="/")
        seconds = time.monotonic() - started
        one_error_line(done.returncode, done.stderr, "cannot write" if command[0] != "train" else "ermission")
        assert seconds < 60, f"{command} took {seconds:.0f} s to fail"  # the import alone takes seconds here
    assert list(home.iterdir()) == []


def test_the_login_throttle_waits_longer_after_each_failure_and_stays_bounded():
    from coursemate.ui import login

    now = [1000.0]
    throttle = login.LoginThrottle(clock=lambda: now[0])
    for _ in range(login.FREE_FAILURES):
        assert throttle.retry_after("user:bob") == 0
        throttle.failed("user:bob")
    assert throttle.retry_after("user:bob") == login.FIRST_DELAY_SECONDS
    throttle.failed("user:bob")
    assert throttle.retry_after("user:bob") == 2 * login.FIRST_DELAY_SECONDS
    for _ in range(20):
        throttle.failed("user:bob")
    assert throttle.retry_after("user:bob") == login.MAX_DELAY_SECONDS
    now[0] += login.MAX_DELAY_SECONDS
    assert throttle.retry_after("user:bob") == 0
    throttle.succeeded("user:bob")
    assert len(throttle) == 0
    for i in range(login.MAX_TRACKED + 50):  # a flood of made-up names and addresses
        throttle.failed(f"address:10.0.{i // 250}.{i % 250}")
    assert len(throttle) == login.MAX_TRACKED
    now[0] += login.FORGET_SECONDS
    throttle.failed("user:carol")
    assert len(throttle) == 1
