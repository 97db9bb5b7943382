"""Evaluation datasets: the shipped course-notes questions and any BEIR-format folder.

Both become an :class:`EvalDataset` of :class:`EvalQuery` rows. A course question's gold is chunking-free:
a chunk is relevant when it contains one of the question's evidence strings (whitespace and case ignored)
and belongs to that string's document, or lies in the gold section when the question names one instead.
A BEIR query's gold is its qrels: relevant document ids with their grades.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from coursemate.errors import CoursemateError
from coursemate.io import read_jsonl
from coursemate.retrieval.types import Chunk, Document

COURSE_QUESTIONS = Path(__file__).resolve().parent / "datasets" / "course_questions.jsonl"
BEIR_CHUNK_SIZE = 4000  # characters: keeps 99.6% of SciFact's abstracts (title + text) whole
# Published nDCG@10 on BEIR SciFact (test): BEIR paper BM25, MTEB all-MiniLM-L6-v2 (see eval/README.md).
PUBLISHED_NDCG10 = {"scifact": {"bm25": 0.665, "dense": 0.645}}
GOLD = "gold"  # the item id of a relevant chunk of a course question
SPLITS = ("dev", "test")  # a course question's fixed split: tune on dev, report test


@dataclass(frozen=True)
class EvalQuery:
    """One query: its text (and misspelled variant), its gold, and whether the notes can answer it."""

    qid: str
    text: str
    qrels: dict[str, int] = field(default_factory=dict)
    misspelled: str = ""
    doc_id: str = ""
    section: str = ""
    evidence: tuple[tuple[str, str], ...] = ()  # (doc_id, verbatim passage) pairs, any of which answers
    out_of_scope: bool = False
    split: str = ""  # "dev" (tune on it) or "test" (report it); "" where the dataset has no split

    def item_id(self, chunk: Chunk) -> str:
        """The id a retrieved chunk counts as: ``GOLD`` for a course question's gold chunk, else its document id
        (BEIR) or chunk id (course)."""
        if not self.evidence and not self.section:
            return chunk.doc_id
        return GOLD if self.is_gold(chunk) else chunk.chunk_id

    def is_gold(self, chunk: Chunk) -> bool:
        """Whether ``chunk`` holds this course question's gold evidence (or lies in its gold section)."""
        if self.evidence:
            text = normalize(chunk.text)
            return any(chunk.doc_id == doc_id and normalize(e) in text for doc_id, e in self.evidence)
        return chunk.doc_id == self.doc_id and chunk.section.lower() == self.section.lower()


@dataclass
class EvalDataset:
    """Queries plus the corpus they are asked over: ``documents`` (BEIR) or the shipped course notes (None)."""

    name: str
    queries: list[EvalQuery]
    documents: list[Document] | None = None
    corpus: str = ""  # the corpus's name: every split of a BEIR dataset shares one evaluation index

    @property
    def answerable(self) -> list[EvalQuery]:
        """The queries with a gold answer in the corpus (the ones retrieval metrics are computed over)."""
        return [q for q in self.queries if not q.out_of_scope]


def normalize(text: str) -> str:
    """Lowercase with runs of whitespace collapsed to one space."""
    return " ".join(text.lower().split())


def load_dataset(spec: str, split: str = "test") -> EvalDataset:
    """``course`` (the shipped questions), a course-style ``.jsonl`` file, or a BEIR-format folder.

    ``split``: a BEIR qrels split (``test``, ``train``, ``dev``); for course questions ``dev``, ``test`` or ``all``.
    """
    course_split = None if split == "all" else split
    if spec == "course":
        return load_course_questions(COURSE_QUESTIONS, course_split)
    path = Path(spec).expanduser()
    if path.is_dir():
        return load_beir(path, split)
    if path.is_file() and path.suffix == ".jsonl":
        return load_course_questions(path, course_split)
    raise CoursemateError(f"dataset {spec!r} is neither 'course', a questions .jsonl file nor a BEIR folder")


def load_course_questions(path: Path, split: str | None = None) -> EvalDataset:
    """Questions over the course notes, one JSON object a line (see eval/README.md for the fields); only those of
    ``split`` ("dev" or "test") when given."""
    if split not in (None, *SPLITS):
        raise CoursemateError(f"split {split!r} is neither {' nor '.join(SPLITS)}")
    queries = []
    for n, row in enumerate(read_jsonl(path), start=1):
        if split is not None and row.get("split") != split:
            continue
        try:
            out_of_scope = bool(row.get("out_of_scope", False))
            if not out_of_scope and not (row.get("evidence") or row.get("section")):
                raise ValueError("an answerable question needs 'evidence' or 'section'")
            queries.append(
                EvalQuery(
                    qid=str(row["id"]),
                    text=row["question"],
                    qrels={} if out_of_scope else {GOLD: 1},
                    misspelled=row.get("misspelled", ""),
                    doc_id=row.get("doc_id", ""),
                    section=row.get("section", ""),
                    evidence=tuple((row["doc_id"], e) for e in row.get("evidence", ()))
                    + tuple((alt["doc_id"], alt["evidence"]) for alt in row.get("also", ())),
                    out_of_scope=out_of_scope,
                    split=row.get("split", ""),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CoursemateError(f"{path} line {n}: not a valid question ({type(exc).__name__}: {exc})") from None
    if not queries:
        raise CoursemateError(f"{path} has no questions" + (f" in split {split!r}" if split else ""))
    return EvalDataset(path.stem if path != COURSE_QUESTIONS else "course", queries)


def load_beir(folder: Path, split: str = "test") -> EvalDataset:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``; documents are title + text."""
    files = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise CoursemateError(f"{folder} is not a BEIR dataset: missing {', '.join(missing)}")
    try:
        documents = [
            Document(doc_id=str(row["_id"]), title=(row.get("title") or "").strip(), text=row["text"],
                     source=folder.name)
            for row in read_jsonl(files[0])
        ]
        texts = {str(row["_id"]): row["text"] for row in read_jsonl(files[1])}
    except (KeyError, TypeError) as exc:
        raise CoursemateError(f"{folder}: a corpus or query row lacks a field ({exc})") from None
    qrels = _read_qrels(files[2])
    unknown = sorted(set(qrels) - set(texts))
    if unknown:
        raise CoursemateError(f"{files[2]}: query ids not in queries.jsonl: {', '.join(unknown[:5])}")
    queries = [EvalQuery(qid=qid, text=texts[qid], qrels=rels) for qid, rels in qrels.items()
               if any(g > 0 for g in rels.values())]
    if not queries:
        raise CoursemateError(f"{files[2]} has no relevant judgments")
    return EvalDataset(folder.name if split == "test" else f"{folder.name}-{split}", queries, documents, folder.name)


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or (n == 1 and row[0] == "query-id"):
                continue
            try:
                qid, doc_id, grade = row[0], row[1], int(row[2])
            except (IndexError, ValueError):
                raise CoursemateError(f"{path} line {n}: expected 'query-id<TAB>corpus-id<TAB>score'") from None
            qrels.setdefault(qid, {})[doc_id] = grade
    return qrels

