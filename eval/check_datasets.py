"""Check the shipped evaluation datasets against the notes: ``python -m eval.check_datasets``.

* course questions: every answerable question's evidence passages occur in their document and lie inside one chunk
  at the configured chunking (case and whitespace ignored, as the gold test of eval/datasets.py does), and every
  row has a ``split`` of ``dev`` or ``test``;
* out-of-scope questions: no ``absent`` term occurs in the notes (case-insensitive regular expression);
* follow-up pairs: every named document exists.

Prints one line per problem and the per-split counts; exits 1 when there is a problem.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

from coursemate.config import Settings
from coursemate.eval.datasets import COURSE_QUESTIONS, SPLITS, normalize
from coursemate.io import read_jsonl
from coursemate.retrieval.chunking import chunk_documents
from coursemate.retrieval.ingest import load_corpus
from coursemate.retrieval.types import Document

DATASETS = COURSE_QUESTIONS.parent
OUT_OF_SCOPE = DATASETS / "out_of_scope.jsonl"
FOLLOW_UPS = DATASETS / "follow_ups.jsonl"


def notes(settings: Settings) -> list[Document]:
    """The configured notes, as the index reads them."""
    documents, _ = load_corpus(settings.corpus_paths)
    return documents


def course_problems(rows: list[dict], documents: list[Document], chunk_size: int, chunk_overlap: int) -> list[str]:
    """Evidence passages missing from their document or from every single chunk of it; bad or missing splits."""
    texts = {d.doc_id: normalize(d.text) for d in documents}
    chunks: dict[str, list[str]] = {}
    for chunk in chunk_documents(documents, chunk_size, chunk_overlap):
        chunks.setdefault(chunk.doc_id, []).append(normalize(chunk.text))
    problems = [f"{r['id']}: split {r.get('split')!r} is not dev or test" for r in rows if r.get("split") not in SPLITS]
    for row in rows:
        if row.get("out_of_scope"):
            continue
        pairs = [(row["doc_id"], e) for e in row.get("evidence", ())]
        pairs += [(alt["doc_id"], alt["evidence"]) for alt in row.get("also", ())]
        for doc_id, evidence in pairs:
            passage = normalize(evidence)
            if doc_id not in texts:
                problems.append(f"{row['id']}: unknown document {doc_id}")
            elif passage not in texts[doc_id]:
                problems.append(f"{row['id']}: evidence not in {doc_id}: {evidence!r}")
            elif not any(passage in c for c in chunks[doc_id]):
                problems.append(f"{row['id']}: evidence straddles two chunks of {doc_id}: {evidence!r}")
    return problems


def out_of_scope_problems(rows: list[dict], documents: list[Document]) -> list[str]:
    """Out-of-scope questions whose ``absent`` terms do occur in the notes, or that lack a kind or a split."""
    problems = []
    for row in rows:
        if row.get("kind") not in ("near", "off") or row.get("split") not in SPLITS:
            problems.append(f"{row['id']}: needs kind near|off and split dev|test")
        if not row.get("absent"):
            continue
        pattern = re.compile(row["absent"], re.IGNORECASE)
        found = sorted({d.doc_id for d in documents if pattern.search(d.text)})
        if found:
            problems.append(f"{row['id']}: absent term /{row['absent']}/ occurs in {', '.join(found)}")
    return problems


def follow_up_problems(rows: list[dict], documents: list[Document]) -> list[str]:
    """Follow-up rows naming documents that do not exist, or lacking a split."""
    known = {d.doc_id for d in documents}
    problems = [f"{r['id']}: needs split dev|test" for r in rows if r.get("split") not in SPLITS]
    for row in rows:
        missing = [d for d in row.get("docs", ()) if d not in known]
        if missing:
            problems.append(f"{row['id']}: unknown document(s) {', '.join(missing)}")
    return problems


def counts(rows: list[dict], key: str) -> dict[str, Counter]:
    """``{split: Counter(row[key])}``."""
    result: dict[str, Counter] = {split: Counter() for split in SPLITS}
    for row in rows:
        result.setdefault(row.get("split", "?"), Counter())[str(row.get(key))] += 1
    return result


def main() -> int:
    """Check the three shipped datasets; print problems and counts."""
    settings = Settings.load()
    documents = notes(settings)
    course, scope, follow = read_jsonl(COURSE_QUESTIONS), read_jsonl(OUT_OF_SCOPE), read_jsonl(FOLLOW_UPS)
    problems = (course_problems(course, documents, settings.chunk_size, settings.chunk_overlap)
                + out_of_scope_problems(scope, documents) + follow_up_problems(follow, documents))
    for line in problems:
        print(line)
    for split in SPLITS:
        rows = [r for r in course if r.get("split") == split and not r.get("out_of_scope")]
        sessions = sum(r["doc_id"].startswith("session-") for r in rows)
        refused = sum(1 for r in course if r.get("split") == split and r.get("out_of_scope"))
        print(f"{split}: {len(rows)} answerable course questions ({sessions} on sessions, "
              f"{len({r['doc_id'] for r in rows})} documents), {refused} out of scope")
    for split, kinds in counts(scope, "kind").items():
        print(f"out_of_scope.jsonl {split}: {dict(sorted(kinds.items()))}")
    for split, kinds in counts(follow, "follow_up").items():
        print(f"follow_ups.jsonl {split}: follow-up {kinds.get('True', 0)}, standalone {kinds.get('False', 0)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
