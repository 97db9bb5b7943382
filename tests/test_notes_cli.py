"""The user's own notes from a shell: ``coursemate index PATHS`` is remembered by later commands (an explicit setting
still wins), a symbolic link loop is skipped with a warning, and ``coursemate notes add|remove|list`` change the
index in place (real model, FAISS, BM25; the CLI in this process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coursemate.cli import main
from coursemate.config import DEFAULT_CORPUS_DIR, Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTES = REPO_ROOT / "data" / "notes"


@pytest.fixture(scope="module")
def mine(tmp_path_factory, load_cached_copy):
    """A home and a notes folder of two notes with a symbolic link loop (l1 -> l2 -> l1) in it; its index is
    already built (a copy when cached), so ``index FOLDER`` loads it."""
    root = tmp_path_factory.mktemp("mynotes")
    notes = root / "mynotes"
    notes.mkdir()
    for name in ("post-lstm-one-pager", "post-what-is-relu"):
        shutil.copy(NOTES / f"{name}.md", notes)
    (notes / "l1").symlink_to("l2")
    (notes / "l2").symlink_to("l1")
    load_cached_copy(Settings.load(home=root / "home", corpus_paths=[notes]), "mynotes")
    return root / "home", notes


def run(capsys, monkeypatch, home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    monkeypatch.delenv("COURSEMATE_CORPUS_PATHS", raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_index_paths_are_remembered_and_the_loop_is_skipped(mine, capsys, monkeypatch):
    home, notes = mine
    code, out, _ = run(capsys, monkeypatch, home, "index", str(notes))
    assert code == 0
    assert f"notes: {notes}" in out
    assert "mynotes/l1: a symbolic link loop" in out  # (the folder named where the cached index was built)
    assert json.loads((home / "corpus.json").read_text()) == {"paths": [str(notes.resolve())]}
    built = json.loads((home / "index" / "manifest.json").read_text())["built_at"]

    code, out, _ = run(capsys, monkeypatch, home, "search", "what do the LSTM gates do?", "--json")
    assert code == 0
    assert {h["doc_id"] for h in json.loads(out)["hits"]} <= {"post-lstm-one-pager", "post-what-is-relu"}
    assert json.loads((home / "index" / "manifest.json").read_text())["built_at"] == built  # reused, not rebuilt
    assert Settings.load(home=home).corpus_paths == [notes.resolve()]


def test_an_explicit_corpus_setting_wins_over_the_recorded_one(mine, tmp_path, monkeypatch):
    home, notes = mine
    (home / "corpus.json").write_text(json.dumps({"paths": [str(notes)]}))
    monkeypatch.setenv("COURSEMATE_CORPUS_PATHS", str(tmp_path))
    assert Settings.load(home=home).corpus_paths == [tmp_path]
    assert Settings.load(home=home, corpus_paths=[DEFAULT_CORPUS_DIR]).corpus_paths == [DEFAULT_CORPUS_DIR]
    monkeypatch.delenv("COURSEMATE_CORPUS_PATHS")
    assert Settings.load(home=tmp_path / "elsewhere").corpus_paths == [DEFAULT_CORPUS_DIR]  # nothing recorded there


def test_a_damaged_record_is_one_clear_line(mine, tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "corpus.json").write_text("{not json")
    code, _, err = run(capsys, monkeypatch, home, "notes", "list")
    assert code == 2
    assert err.strip() == (f"coursemate: error: {home / 'corpus.json'} is damaged; choose the notes again with: "
                           "coursemate index PATHS")


def test_notes_add_list_and_remove_update_the_index(mine, tmp_path, capsys, monkeypatch):
    home, notes = mine
    run(capsys, monkeypatch, home, "index", str(notes))
    lecture = tmp_path / "capsules.md"
    lecture.write_text("# Capsule networks\n\nA capsule network routes the output vectors of its capsules by "
                       "agreement: a lower capsule sends its output to the parent whose prediction agrees with it.\n")
    code, out, _ = run(capsys, monkeypatch, home, "notes", "add", str(lecture))
    assert code == 0 and "3 documents" in out and "(embedded 1 passages" in out
    code, out, _ = run(capsys, monkeypatch, home, "notes", "list", "--json")
    entries = {e["doc_id"]: e for e in json.loads(out)}
    assert entries["capsules"]["chunks"] == 1 and entries["capsules"]["removable"]
    assert not entries["post-lstm-one-pager"]["removable"]
    code, out, _ = run(capsys, monkeypatch, home, "search", "routing by agreement between capsules", "--json")
    assert json.loads(out)["hits"][0]["doc_id"] == "capsules"

    code, _, err = run(capsys, monkeypatch, home, "notes", "remove", "post-lstm-one-pager")
    assert code == 2 and "is not an added note" in err and str(notes / "post-lstm-one-pager.md") in err
    broken = tmp_path / "slides.pptx"
    broken.write_bytes(b"not a zip")
    code, _, err = run(capsys, monkeypatch, home, "notes", "add", str(broken))
    assert code == 2 and err.strip() == ("coursemate: error: cannot add slides.pptx: unreadable PowerPoint file "
                                         "(File is not a zip file)")
    assert not (home / "notes" / "slides.pptx").exists()

    code, out, _ = run(capsys, monkeypatch, home, "notes", "remove", "capsules")
    assert code == 0 and "2 documents" in out and "(embedded 0 passages" in out
    assert not (home / "notes" / "capsules.md").exists()


@pytest.mark.parametrize(("args", "expected"), [
    (["ui", "--admin", "teacher"], "--admin needs --auth (without it, the local user is the admin)"),
    (["ui", "--auth", "teacher:pw", "--admin", "tutor"], "--admin names tutor, not a user given with --auth"),
])
def test_admins_must_be_signed_in_users(tmp_path, capsys, monkeypatch, args, expected):
    code, _, err = run(capsys, monkeypatch, tmp_path / "home", *args)
    assert code == 2 and err.strip() == f"coursemate: error: {expected}"
