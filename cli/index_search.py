"""``coursemate index`` and ``coursemate search``."""

from __future__ import annotations

import argparse
import json
import textwrap

from coursemate.config import (
    DEFAULT_CORPUS_DIR,
    DENSE_INDEXES,
    SEARCH_MODES,
    SPARSE_BACKENDS,
    Settings,
    record_corpus_paths,
)
from coursemate.errors import CoursemateError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``index`` and ``search``."""
    index = subparsers.add_parser("index", help="build (or reuse) the index of the notes")
    index.add_argument("corpus_paths", nargs="*", metavar="PATHS", default=None,
                       help="notes files or folders, recorded in the home: later commands use them until another "
                            "index names others (default: the recorded notes, else the shipped notes)")
    index.add_argument("--shipped", action="store_true", help="index the shipped course notes again (and record them)")
    index.add_argument("--rebuild", action="store_true",
                       help="embed everything again (by default a changed corpus embeds only its new text)")
    index.add_argument("--chunk-size", type=int)
    index.add_argument("--chunk-overlap", type=int)
    index.add_argument("--sparse-backend", choices=SPARSE_BACKENDS)
    index.add_argument("--dense-index", choices=DENSE_INDEXES)
    index.add_argument("--json", action="store_true", help="print the index manifest as JSON")
    index.set_defaults(handler=run_index)

    search = subparsers.add_parser("search", help="search the notes")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--k", type=int, default=5, help="number of hits (default 5)")
    search.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
    search.add_argument("--rrf-k", type=int, help="reciprocal rank fusion constant")
    search.add_argument("--bm25-weight", type=float)
    search.add_argument("--dense-weight", type=float)
    search.add_argument("--no-correct", dest="correct", action="store_false",
                        help="search the query as typed (by default misspellings are corrected first)")
    search.add_argument("--json", action="store_true",
                        help="print {query, did_you_mean, changes, correction_ms, hits} as JSON")
    search.set_defaults(handler=run_search)


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.retrieval.index import NotesIndex
    from coursemate.retrieval.library import corpus_label

    if args.shipped and args.corpus_paths:
        raise CoursemateError("name PATHS or --shipped, not both")
    if args.shipped:
        settings = settings.replace(corpus_paths=[DEFAULT_CORPUS_DIR])
    index = NotesIndex.load_or_build(settings, rebuild=args.rebuild, progress=not args.json)
    if args.corpus_paths or args.shipped:
        record_corpus_paths(settings.home, settings.corpus_paths)
    m = index.manifest
    if args.json:
        print(json.dumps({k: v for k, v in m.items() if k != "files"}, indent=2))
    else:
        print(f"index: {settings.index_dir}")
        print(f"notes: {corpus_label(settings.corpus_paths)}")
        print(f"{m['documents']} documents, {m['chunks']} chunks, BM25 backend {m['sparse_backend']}, "
              f"dense {m['dense_index']} ({m['params']['embedding_model']}), "
              f"{'updated' if m.get('update') == 'incremental' else 'built'} {m['built_at']} "
              f"(embedded {m['embedded']['passages']} passages, {m['embedded']['sentences']} sentences)")
        for skipped in m.get("skipped", []):
            print(skipped)
    return 0


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.retrieval.index import NotesIndex, check_query
    from coursemate.tools.grounding.citations import Citation
    from coursemate.tools.grounding.render import provenance, source_text

    check_query(args.query)  # fail fast, before loading models
    index = NotesIndex.load_or_build(settings, progress=not args.json)
    results = index.search(args.query, k=args.k, mode=args.mode, correct=args.correct)
    if args.json:
        print(json.dumps(results.to_dict(), indent=2, ensure_ascii=False))
        return 0
    hits = results.hits
    if results.did_you_mean:
        print(f"searched for: {results.did_you_mean}  (typed: {args.query}; --no-correct searches it as typed)")
    if not hits:
        print("no matching passages")
    for h in hits:
        source = Citation.of(h.rank, h.chunk, h)
        print(f"[{h.rank}] {source_text(source)}  {provenance(source)}")
        print(textwrap.indent(textwrap.fill(index.snippet(h.chunk.text, results.corrected, 400), 116), "    "))
    return 0
