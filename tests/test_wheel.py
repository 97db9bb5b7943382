"""The built wheel, installed (not editable) into a scratch virtual environment, works from any directory.

The wheel is built from a copy of the checkout (``pip wheel --no-deps --no-build-isolation``), installed with
``--no-deps`` into a fresh venv whose dependencies come from the running interpreter's site-packages (one .pth
line each: nothing is downloaded), and run from a folder outside the checkout: ``coursemate ask`` answers from
the shipped notes and ``coursemate train`` starts its worker from the installed package.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                     ".ruff_cache", "tests", "docs")

pytestmark = pytest.mark.slow  # builds a wheel, creates a venv, loads the embedding model and trains in fresh processes


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout (the build leaves nothing in the checkout itself)."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = scratch / "source"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SHIPPED)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(scratch / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (built,) = (scratch / "dist").glob("coursemate-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; its dependencies are the running interpreter's site-packages."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    dependencies = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"],
                                  *(p for p in sys.path if p.endswith("site-packages"))])
    # Plain path lines: the .pth files inside those folders (an editable install of the checkout) are not run.
    (purelib / "dependencies.pth").write_text("\n".join(p for p in dependencies if Path(p).is_dir()) + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return venv


@pytest.fixture(scope="module")
def outside(tmp_path_factory, course_settings, course_index) -> tuple[Path, dict[str, str]]:
    """A working folder outside the checkout and the environment of a user there: a fresh home holding a copy of
    the session's index of the shipped notes (the installed notes have the same files, so it is reused)."""
    folder = tmp_path_factory.mktemp("elsewhere")
    home = folder / "home"
    shutil.copytree(course_settings.index_dir, home / "index", symlinks=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEMATE_") and k != "PYTHONPATH"}
    env |= {"COURSEMATE_HOME": str(home), "TOKENIZERS_PARALLELISM": "false",
            "COURSEMATE_MODELS_DIR": os.environ.get("COURSEMATE_MODELS_DIR", str(home / "models"))}
    return folder, env


def coursemate(installed: Path, outside: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess:
    folder, env = outside
    return subprocess.run([str(installed / "bin" / "coursemate"), *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


def test_the_wheel_holds_one_import_name_the_prompts_the_datasets_and_the_notes(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"coursemate"}
    assert "coursemate/prompts.yaml" in names
    assert {f"coursemate/eval/datasets/{p.name}" for p in (REPO_ROOT / "eval" / "datasets").glob("*.jsonl")} <= set(
        names)
    notes = {p.name for p in (REPO_ROOT / "data" / "notes").iterdir() if p.is_file()}
    assert notes and {n.removeprefix("coursemate/notes/") for n in names if n.startswith("coursemate/notes/")} == notes
    assert "coursemate/tools/grounding/render.py" in names and "coursemate/cli/__init__.py" in names


def test_the_installed_package_answers_from_the_shipped_notes_outside_the_checkout(installed, outside):
    located = subprocess.run([str(installed / "bin" / "python"), "-c", "import coursemate; print(coursemate.__file__)"],
                             cwd=outside[0], env=outside[1], capture_output=True, text=True, check=True)
    assert Path(located.stdout.strip()).is_relative_to(installed), located.stdout  # the wheel, not the checkout
    done = coursemate(installed, outside, "ask", "what is dropout?", "--json", "--llm", "extractive")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["mode"] == "extractive" and answer["citations"], answer
    assert "dropout" in answer["answer"].lower()
    notes = [p.read_text(encoding="utf-8") for p in next(installed.rglob("site-packages/coursemate/notes")).iterdir()]
    for citation in answer["citations"]:  # each cited passage is a span of one installed note
        assert f"[{citation['n']}]" in answer["answer"]
        assert any(citation["text"] in note for note in notes), citation["chunk_id"]


def test_the_installed_package_trains_in_its_own_worker(installed, outside):
    done = coursemate(installed, outside, "train", "--dataset", "digits", "--model", "mnist_cnn", "--epochs", "1",
                      "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "completed" and summary["final_test_accuracy"] > 0.3, summary
