"""Evaluation reports: JSON (with per-query results), a Markdown table and a PNG chart, written atomically;
and the comparison of a report with a baseline that gates regressions."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError
from coursemate.eval.metrics import METRIC_NAMES, QUALITY_METRICS
from coursemate.eval.runner import RunResult
from coursemate.io import atomic_write_json, atomic_write_text, atomic_write_with

CHART_METRICS = ("recall@1", "recall@5", "mrr@10", "ndcg@10")


def build_report(dataset: str, results: Sequence[RunResult], context: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON report: what ran, the summary ``{label: {metric: value}}`` and every run's per-query results."""
    return {
        "dataset": dataset,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "context": dict(context),
        "summary": {r.label: r.metrics for r in results},
        "runs": [{"label": r.label, "config": r.config, "metrics": r.metrics, "per_query": r.per_query}
                 for r in results],
    }


def markdown_table(summary: Mapping[str, Mapping[str, float]], reference: Mapping[str, float] | None = None) -> str:
    """A Markdown table with one row per run (and a published-figure column when ``reference`` is given)."""
    header = ["run", *METRIC_NAMES] + (["published nDCG@10"] if reference else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, metrics in summary.items():
        cells = [label] + [_format(name, metrics.get(name)) for name in METRIC_NAMES]
        if reference:
            cells.append(f"{reference[label]:.3f}" if label in reference else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def save_report(
    report: dict[str, Any], reports_dir: Path, name: str, reference: Mapping[str, float] | None = None
) -> dict[str, Path]:
    """Write ``<name>.json``, ``<name>.md`` and ``<name>.png`` under ``reports_dir``; return their paths."""
    paths = {"json": save_json(report, reports_dir, name)}
    paths["md"] = reports_dir / f"{name}.md"
    paths["png"] = reports_dir / f"{name}.png"
    title = f"# Retrieval evaluation: {report['dataset']} ({report['created']})\n\n"
    atomic_write_text(paths["md"], title + markdown_table(report["summary"], reference))
    atomic_write_with(paths["png"], lambda p: _chart(report["summary"], report["dataset"], p))
    return paths


def save_json(report: dict[str, Any], reports_dir: Path, name: str) -> Path:
    """Write ``report`` to ``reports_dir/<name>.json`` atomically and return the path."""
    path = reports_dir / f"{name}.json"
    atomic_write_json(path, report)
    return path


def load_summary(path: Path) -> dict[str, dict[str, float]]:
    """``{label: {metric: value}}`` from a report file or from a ``--json`` output file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CoursemateError(f"cannot read baseline {path}: {exc.strerror}") from None
    except ValueError:
        raise CoursemateError(f"baseline {path} is not valid JSON") from None
    summary = data.get("summary", data) if isinstance(data, dict) else None
    if not isinstance(summary, dict) or not all(isinstance(v, dict) for v in summary.values()):
        raise CoursemateError(f"baseline {path} has no {{run: {{metric: value}}}} summary")
    return summary


def regressions(
    summary: Mapping[str, Mapping[str, float]], baseline: Mapping[str, Mapping[str, float]], tolerance: float
) -> list[str]:
    """One line per quality metric that dropped more than ``tolerance`` below the baseline (latency is not gated)."""
    shared = [label for label in summary if label in baseline]
    if not shared:
        raise CoursemateError(f"the baseline has none of the runs {', '.join(summary)}; it has {', '.join(baseline)}")
    found = []
    for label in shared:
        for name in QUALITY_METRICS:
            if name in baseline[label] and summary[label][name] < baseline[label][name] - tolerance:
                found.append(
                    f"{label} {name}: {summary[label][name]:.4f} < baseline {baseline[label][name]:.4f} - {tolerance}"
                )
    return found


def _format(name: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if name.startswith("latency") else f"{value:.3f}"


def _chart(summary: Mapping[str, Mapping[str, float]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = list(summary)
    x = np.arange(len(labels))
    width = 0.8 / len(CHART_METRICS)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(labels) + 2), 4))
    for i, name in enumerate(CHART_METRICS):
        ax.bar(x + i * width, [summary[label][name] for label in labels], width, label=name)
    ax.set_xticks(x + width * (len(CHART_METRICS) - 1) / 2, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)

