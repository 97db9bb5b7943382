"""The course-notes evaluation against the committed baseline (the CI gate), the course questions' gold against
the real index, and the BEIR loader end to end on a small dataset written in tmp_path."""

import json
import shutil
from pathlib import Path

import pytest

from coursemate.cli import main
from coursemate.config import Settings
from coursemate.eval.datasets import COURSE_QUESTIONS, load_course_questions, load_dataset
from coursemate.eval.runner import eval_index_dir, open_index

REPO_ROOT = Path(__file__).resolve().parent.parent

BASELINE = REPO_ROOT / "eval" / "baselines" / "course.json"
NOTES = REPO_ROOT / "data" / "notes"


@pytest.fixture(scope="module")
def home(tmp_path_factory, course_index) -> Path:
    """An isolated coursemate home whose course evaluation index is the session's index of the same notes, copied
    (same notes and parameters: its manifest matches, so it is loaded, not built again)."""
    folder = tmp_path_factory.mktemp("eval-home")
    settings, course = Settings.load(home=folder), load_dataset("course")
    shutil.copytree(course_index.settings.index_dir, eval_index_dir(settings, course))
    assert open_index(settings, course, progress=False).manifest["built_at"] == course_index.manifest["built_at"]
    return folder


def _run(home: Path, *args: str) -> int:
    return main(["--home", str(home), "eval", *args])


@pytest.mark.slow  # every course question, three modes
def test_course_evaluation_holds_the_committed_baseline(home, capsys):
    assert _run(home, "retrieval", "--dataset", "course", "--json", "--no-langchain", "--baseline", str(BASELINE)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"bm25", "dense", "hybrid"}
    assert summary["hybrid"]["recall@5"] >= summary["bm25"]["recall@5"]
    reports = list((home / "reports").glob("retrieval-course-*"))
    assert {p.suffix for p in reports} == {".json", ".md", ".png"}


def test_a_drop_below_the_baseline_exits_1(home, tmp_path, capsys):
    doctored = json.loads(BASELINE.read_text())
    doctored["summary"]["hybrid"]["recall@5"] = 1.5  # no run can reach it
    path = tmp_path / "doctored.json"
    path.write_text(json.dumps(doctored))
    assert _run(home, "retrieval", "--dataset", "course", "--modes", "hybrid", "--no-langchain",
                "--baseline", str(path)) == 1
    assert "regression: hybrid recall@5" in capsys.readouterr().err


@pytest.mark.slow  # every misspelled question, twice
def test_spelling_correction_recovers_misspelled_questions(home, capsys):
    assert _run(home, "retrieval", "--modes", "hybrid", "--json", "--misspelled", "--no-spelling",
                "--no-langchain") == 0
    uncorrected = json.loads(capsys.readouterr().out)["hybrid"]
    assert _run(home, "retrieval", "--modes", "hybrid", "--json", "--misspelled", "--spelling", "--no-langchain") == 0
    corrected = json.loads(capsys.readouterr().out)["hybrid"]
    assert corrected["recall@5"] > uncorrected["recall@5"]
    assert corrected["ndcg@10"] > uncorrected["ndcg@10"]


def test_every_note_has_questions_and_every_gold_evidence_lies_inside_one_chunk(home):
    index = open_index(Settings.load(home=home), load_dataset("course"), progress=False)
    dataset = load_course_questions(COURSE_QUESTIONS)
    assert {p.stem for p in NOTES.glob("*.md")} <= {q.doc_id for q in dataset.answerable}
    unmatched = [q.qid for q in dataset.answerable if not any(q.is_gold(c) for c in index.chunks)]
    assert unmatched == []


def test_a_bad_baseline_or_dataset_is_a_one_line_error(home, tmp_path, capsys):
    assert _run(home, "retrieval", "--baseline", str(tmp_path / "missing.json")) == 2
    assert _run(home, "retrieval", "--dataset", str(tmp_path)) == 2
    assert _run(home, "retrieval", "--modes", "bm25,fuzzy") == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("coursemate: error: ") for line in errors)


def _write_beir(folder: Path) -> None:
    corpus = [
        {"_id": "d1", "title": "Penguins", "text": "Emperor penguins huddle together to survive the Antarctic winter."},
        {"_id": "d2", "title": "Volcanoes", "text": "Basaltic lava flows from shield volcanoes such as Mauna Loa."},
        {"_id": "d3", "title": "Photosynthesis",
         "text": "Chlorophyll absorbs light so plants turn carbon dioxide into sugar."},
        {"_id": "d4", "title": "Tides", "text": "The moon's gravity raises ocean tides twice a day."},
        {"_id": "d5", "title": "Penguin diet", "text": "Penguins eat krill, squid and small fish caught while diving."},
    ]
    queries = [{"_id": "q1", "text": "How do penguins survive the Antarctic winter?"},
               {"_id": "q2", "text": "lava from shield volcanoes"},
               {"_id": "q3", "text": "why are there two tides a day"},
               {"_id": "q4", "text": "unjudged query"}]
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td5\t1\nq2\td2\t1\nq3\td4\t1\n")


def test_a_beir_folder_is_indexed_once_and_evaluated(tmp_path, capsys):
    folder = tmp_path / "tinybeir"
    _write_beir(folder)
    home = tmp_path / "home"
    dataset = load_dataset(str(folder))
    assert [q.qid for q in dataset.queries] == ["q1", "q2", "q3"]
    assert dataset.documents[0].title == "Penguins"

    assert main(["--home", str(home), "eval", "retrieval", "--dataset", str(folder), "--json", "--no-spelling"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bm25"]["recall@1"] == pytest.approx((0.5 + 1 + 1) / 3)  # q1 has two relevant documents
    assert summary["bm25"]["ndcg@10"] == pytest.approx(1.0)  # d1 (grade 2) then d5 (grade 1): the ideal order
    indexes = list((home / "eval-index").iterdir())
    assert len(indexes) == 1 and indexes[0].name.startswith("tinybeir-")
    built = json.loads((indexes[0] / "manifest.json").read_text())["built_at"]

    assert main(["--home", str(home), "eval", "retrieval", "--dataset", str(folder), "--modes", "bm25", "--json",
                 "--no-spelling"]) == 0
    assert json.loads((indexes[0] / "manifest.json").read_text())["built_at"] == built  # reused, not rebuilt


def test_a_beir_folder_without_qrels_is_refused(tmp_path, capsys):
    folder = tmp_path / "broken"
    _write_beir(folder)
    (folder / "qrels" / "test.tsv").unlink()
    assert main(["--home", str(tmp_path / "home"), "eval", "retrieval", "--dataset", str(folder)]) == 2
    assert "missing" in capsys.readouterr().err
