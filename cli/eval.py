"""``coursemate eval``: retrieval metrics, ablation grids, answer checks and spelling accuracy."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from coursemate.config import SEARCH_MODES, Settings
from coursemate.errors import CoursemateError
from coursemate.eval.datasets import BEIR_CHUNK_SIZE, PUBLISHED_NDCG10, SPLITS
from coursemate.retrieval.spelling import RANKINGS  # light: the dictionary loads only when a corrector is built


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``eval retrieval``, ``eval ablate``, ``eval answers`` and ``eval spelling``."""
    parser = subparsers.add_parser("eval", help="offline evaluation: retrieval metrics, ablations, answers")
    commands = parser.add_subparsers(dest="eval_command", required=True, metavar="EVAL_COMMAND")

    retrieval = commands.add_parser("retrieval", help="Recall@k, MRR@10, nDCG@10 and latency per search mode")
    _dataset_arguments(retrieval)
    retrieval.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated modes (default all three)")
    retrieval.add_argument("--spelling", action=argparse.BooleanOptionalAction, default=None,
                           help="add the spelling-corrected query as an extra phrasing (default: the spelling setting)")
    retrieval.add_argument("--misspelled", action="store_true", help="ask the misspelled variants of the questions")
    retrieval.add_argument("--langchain", action=argparse.BooleanOptionalAction, default=None,
                           help="add the LangChain tutorial ensemble as a 'langchain' row (default: on for the course "
                                "notes, off for BEIR, whose corpus it would embed again)")
    retrieval.add_argument("--rrf-k", type=int, help="reciprocal rank fusion constant")
    retrieval.add_argument("--bm25-weight", type=float)
    retrieval.add_argument("--dense-weight", type=float)
    retrieval.add_argument("--baseline", help="a report (or --json output) to compare with; exit 1 on a drop")
    retrieval.add_argument("--tolerance", type=float, default=0.02, help="allowed drop per metric (default 0.02)")
    retrieval.set_defaults(handler=run_retrieval)

    ablate = commands.add_parser("ablate", help="run an ablation grid and print one table")
    _dataset_arguments(ablate)
    ablate.add_argument("--grid", default="default",
                        help="default (all ablations), modes, fusion (RRF k x sentence weight) or chunking (chunk size "
                             "and overlap, topics)")
    ablate.set_defaults(handler=run_ablate)

    answers = commands.add_parser("answers", help="the answer benchmark: every answer mode over the same questions")
    answers.add_argument("--mode", default="extractive,passages",
                         help="comma-separated answer modes: extractive, passages, smollm2, or any --llm value such as "
                              "an OpenAI-compatible URL (default extractive,passages)")
    answers.add_argument("--split", choices=SPLITS, default="test", help="question split (default test; tune on dev)")
    answers.add_argument("--dataset", default="course",
                         help="'course' (the shipped questions, out-of-scope and follow-up sets) or a course-style "
                              "questions .jsonl such as ../shared/benchmarks/course-external/questions.jsonl")
    answers.add_argument("--dump", type=Path, metavar="FILE",
                         help="write the first mode's answers as JSONL {id, question, reference_evidence, answer, "
                              "cited_passages} for a blind grader")
    answers.add_argument("--limit", type=int, help="ask only the first N questions of each kind")
    answers.add_argument("--json", action="store_true", help="print the report as JSON")
    answers.set_defaults(handler=run_answers)

    spelling = commands.add_parser("spelling", help="spelling-correction accuracy on Norvig-format test sets")
    spelling.add_argument("paths", nargs="+", metavar="PATH", help="test set(s): 'right: wrong1 wrong2' per line")
    spelling.add_argument("--ranking", choices=RANKINGS, default=RANKINGS[0],
                          help="noisy-channel (default) or top (symspellpy's closest, then most frequent)")
    spelling.add_argument("--json", action="store_true", help="print one JSON object per test set")
    spelling.set_defaults(handler=run_spelling)

    routing = commands.add_parser("routing", help="the offline chat router: intent accuracy, argument exact match, "
                                                  "side effects, latency over eval/datasets/chat_requests.jsonl; "
                                                  "tool calls over whole course question sets")
    routing.add_argument("--split", default="test", help="dev (tune on it), test (report it) or all (default test)")
    routing.add_argument("--questions", action="append", type=Path, metavar="FILE",
                         help="a course question set (.jsonl with a 'question' per row) whose every question must "
                              "stay a question; repeatable (default: eval/datasets/course_questions.jsonl)")
    routing.add_argument("--json", action="store_true", help="print the summary and every request as JSON")
    routing.set_defaults(handler=run_routing)


def _dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="course",
                        help="'course' (shipped questions), a questions .jsonl or a BEIR folder")
    parser.add_argument("--split", default="test",
                        help="course questions: dev (tune on it), test (report it) or all; BEIR: a qrels split "
                             "(default test)")
    parser.add_argument("--k", type=int, default=10, help="ranked items scored per query (default 10)")
    parser.add_argument("--chunk-size", type=int, help=f"chunk size in characters (BEIR default {BEIR_CHUNK_SIZE})")
    parser.add_argument("--chunk-overlap", type=int)
    parser.add_argument("--json", action="store_true", help="print {run: {metric: value}} as JSON")


def run_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate each mode on the dataset; save the report; compare with ``--baseline``."""
    from coursemate.eval.reports import load_summary, regressions
    from coursemate.eval.runner import evaluate, open_index

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in SEARCH_MODES]
    if unknown or not modes:
        raise CoursemateError(
            f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SEARCH_MODES)}")
    baseline = load_summary(args.baseline) if args.baseline else None
    dataset, settings = _load(args, settings)
    started = time.perf_counter()
    index = open_index(settings, dataset, progress=not args.json)
    spelling = "fuse" if settings.spelling else "off"
    results = [
        evaluate(index, dataset, mode, k=args.k, misspelled=args.misspelled, spelling=spelling) for mode in modes
    ]
    langchain = dataset.documents is None if args.langchain is None else args.langchain  # off for BEIR by default
    if langchain:
        from coursemate.eval.langchain_baseline import evaluate_langchain

        results.append(evaluate_langchain(index, dataset, k=args.k, misspelled=args.misspelled, progress=not args.json))
    context = {"command": "retrieval", "misspelled": args.misspelled, "spelling": settings.spelling, "k": args.k,
               "seconds": round(time.perf_counter() - started, 1), "settings": _retrieval_settings(settings)}
    summary = _finish(dataset.name, results, context, settings, args.json, "retrieval")
    if baseline is None:
        return 0
    dropped = regressions(summary, baseline, args.tolerance)
    for line in dropped:
        print(f"coursemate: regression: {line}", file=sys.stderr)
    if not dropped:
        print(f"no metric dropped more than {args.tolerance} below {args.baseline}", file=sys.stderr)
    return 1 if dropped else 0


def run_ablate(args: argparse.Namespace, settings: Settings) -> int:
    """Run an ablation grid and print one table."""
    from coursemate.eval.ablation import build_grid, run_grid

    dataset, settings = _load(args, settings)
    variants = build_grid(args.grid, settings, dataset)
    started = time.perf_counter()
    results = run_grid(variants, settings, dataset, k=args.k, progress=lambda line: print(line, file=sys.stderr))
    context = {"command": "ablate", "grid": args.grid, "k": args.k, "seconds": round(time.perf_counter() - started, 1),
               "settings": _retrieval_settings(settings)}
    _finish(dataset.name, results, context, settings, args.json, f"ablate-{args.grid}")
    return 0


def run_answers(args: argparse.Namespace, settings: Settings) -> int:
    """Run every answer mode over the same questions and print one table (or JSON); save the report."""
    from coursemate.eval.answers import benchmark, format_benchmark
    from coursemate.eval.reports import save_json

    if args.limit is not None and args.limit < 1:
        raise CoursemateError(f"--limit must be at least 1; got {args.limit}")
    modes = list(dict.fromkeys(m.strip() for m in args.mode.split(",") if m.strip()))
    if not modes:
        raise CoursemateError("--mode needs at least one answer mode")
    report = benchmark(settings, modes, split=args.split, limit=args.limit, dataset=args.dataset, dump=args.dump)
    path = save_json(report, settings.reports_dir, f"answers-{args.split}-{time.strftime('%Y%m%d-%H%M%S')}")
    print(json.dumps(report, indent=2) if args.json else format_benchmark(report))
    print(f"report: {path}", file=sys.stderr)
    return 0


def run_spelling(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate the English-dictionary corrector on each test set and print the results."""
    from coursemate.eval.spelling import evaluate_spelling
    from coursemate.retrieval.spelling import SpellingCorrector

    missing = [p for p in args.paths if not Path(p).is_file()]
    if missing:
        raise CoursemateError(f"spelling test set not found: {', '.join(missing)}")
    corrector = SpellingCorrector(ranking=args.ranking)
    for path in args.paths:
        result = evaluate_spelling(path, corrector)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['test_set']}: {result['accuracy']:.1%} of {result['pairs']} correct "
                  f"({result['unknown']:.1%} unknown) at {result['words_per_second']:.0f} words/second "
                  f"[{result['dictionary']}, {result['ranking']}]")
    return 0


def run_routing(args: argparse.Namespace, settings: Settings) -> int:
    """Route the chat requests of one split and every question of the course question sets; print the metrics
    (and the misrouted requests); save the report."""
    from coursemate.agents.router import IntentRouter
    from coursemate.eval.datasets import load_dataset
    from coursemate.eval.reports import save_json
    from coursemate.eval.routing import COURSE_QUESTIONS, course_question_tool_calls, evaluate_routing, load_requests
    from coursemate.eval.runner import open_index

    load_requests(args.split)  # a bad split fails before the index loads
    question_sets = args.questions or [COURSE_QUESTIONS]
    for path in question_sets:
        if not path.is_file():
            raise CoursemateError(f"no course question set {path}")
    index = open_index(settings, load_dataset("course", "all"), progress=not args.json)  # the shipped notes
    router = IntentRouter(index)
    summary, rows = evaluate_routing(index, args.split, router=router)
    sets = course_question_tool_calls(index, question_sets, router=router)
    summary["question_set_tool_calls"] = sets["tool_calls"]
    report = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "summary": summary, "requests": rows,
              "question_sets": sets}
    path = save_json(report, settings.reports_dir, f"routing-{args.split}-{time.strftime('%Y%m%d-%H%M%S')}")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in summary.items():
            print(f"{name:28} {value}")
        for name, counts in sets["sets"].items():
            print(f"  {name}: {counts['tool_calls']} tool call(s) over {counts['questions']} questions")
        for row in rows:
            if not (row["intent_ok"] and (row["arguments_ok"] or row["gold_intent"] == "question")):
                print(f"miss {row['id']}: {row['text']!r} -> {row['intent']} {row['arguments']} "
                      f"(gold {row['gold_intent']} {row['gold_arguments']})")
            if row["side_effect"]:
                print(f"side effect {row['id']}: {row['text']!r} would {row['intent']} at once")
        for routed in sets["routed"]:
            print(f"course question to a tool: {routed['question']!r} -> {routed['intent']}")
    print(f"report: {path}", file=sys.stderr)
    return 0


def _load(args: argparse.Namespace, settings: Settings):
    """The dataset and the settings to evaluate it with (BEIR abstracts are kept whole by default)."""
    from coursemate.eval.datasets import load_dataset

    if args.k < 1:
        raise CoursemateError(f"--k must be at least 1; got {args.k}")
    dataset = load_dataset(args.dataset, args.split)
    if dataset.documents is not None and args.chunk_size is None:
        settings = settings.replace(chunk_size=BEIR_CHUNK_SIZE)
    return dataset, settings


def _finish(dataset: str, results, context: dict, settings: Settings, as_json: bool, kind: str) -> dict:
    """Save the report, print the table (or JSON), and return the summary."""
    from coursemate.eval.reports import build_report, markdown_table, save_report

    report = build_report(dataset, results, context)
    paths = save_report(report, settings.reports_dir, f"{kind}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}",
                        PUBLISHED_NDCG10.get(dataset))
    if as_json:
        print(json.dumps(report["summary"], indent=2))
    else:
        print(markdown_table(report["summary"], PUBLISHED_NDCG10.get(dataset)), end="")
    print(f"report: {paths['json']} (+ .md, .png)", file=sys.stderr)
    return report["summary"]


def _retrieval_settings(settings: Settings) -> dict:
    names = ("embedding_model", "embedding_backend", "chunk_size", "chunk_overlap", "bm25_stemming", "bm25_stopwords",
             "sparse_backend", "dense_index", "hnsw_min_chunks", "rrf_k", "bm25_weight", "dense_weight",
             "sentence_weight", "candidates", "spelling")
    return {name: getattr(settings, name) for name in names}
