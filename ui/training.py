"""The Training tab: start a real training run, watch its loss and accuracy live, list, cancel and compare runs.

Every run lives in ``settings.runs_dir``, so runs started from the chat (by the training agent) or from the
CLI appear here as well. A ``gr.Timer`` polls the run records; the page is only updated when they changed.
With ``--auth`` a run belongs to the signed-in user who started it: everyone sees it, only its owner cancels it.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from coursemate.tools.training import (
    COMPARE_COLUMNS,
    DATASETS,
    MODELS,
    OPTIMIZERS,
    SCHEDULERS,
    RunSummary,
    TrainingConfig,
)
from coursemate.ui.errors import warn
from coursemate.ui.services import Services

POLL_SECONDS = 1.0
RUN_COLUMNS = ["id", "status", "model", "dataset", "epochs_completed", "epochs", "best_test_accuracy",
               "final_test_accuracy", "train_seconds", "owner", "error"]
PLOT_COLUMNS = ["epoch", "value", "curve"]
DEFAULTS = TrainingConfig()


def runs_table(services: Services) -> pd.DataFrame:
    """Every run, newest first, with its status and results."""
    rows = [{column: _cell(getattr(summary, column)) for column in RUN_COLUMNS}
            for summary in reversed(services.runs.list())]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def curves(metrics: list[dict[str, Any]], keys: dict[str, str]) -> pd.DataFrame | None:
    """Long-format plot data: one row per (epoch, curve) for the metric ``keys`` (metric -> curve label).

    None while there is no data yet: a gr.LinePlot first given an empty table draws no lines afterwards.
    """
    rows = [{"epoch": row["epoch"], "value": row[key], "curve": label}
            for row in metrics for key, label in keys.items() if row.get(key) is not None]
    return pd.DataFrame(rows, columns=PLOT_COLUMNS) if rows else None


def comparison_figure(services: Services, run_ids: list[str]):
    """Test accuracy by epoch, one line per run (matplotlib: redrawn whole for each new set of runs)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3), layout="constrained")
    axes = figure.add_subplot()
    for run_id in run_ids:
        rows = services.runs.metrics(run_id)
        axes.plot([r["epoch"] for r in rows], [r["test_accuracy"] for r in rows], marker="o", markersize=3,
                  label=run_id)
    axes.set(xlabel="epoch", ylabel="test accuracy")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def run_status_markdown(summary: RunSummary) -> str:
    """One paragraph on a run: status, progress, accuracy, error."""
    text = (f"**Run `{summary.id}`**: {summary.status} · {summary.model} on {summary.dataset} · "
            f"epoch {summary.epochs_completed}/{summary.epochs}")
    if summary.best_test_accuracy is not None:
        text += f" · best test accuracy {summary.best_test_accuracy:.2%}"
    if summary.train_seconds is not None:
        text += f" · trained in {summary.train_seconds:.1f} s"
    if summary.error:
        text += f"\n\n**Error:** {summary.error}"
    return text


def start_run(services: Services, form: dict[str, Any], user: str | None = None) -> str:
    """Start a run for ``user`` from the form's values; CoursemateError (naming the valid choices) when they are
    invalid or name a dataset folder outside the data roots."""
    config = {**form}
    for name in ("epochs", "batch_size", "seed"):
        value = config[name]
        config[name] = int(value) if isinstance(value, float) and value.is_integer() else value
    return services.runs_for(user).start(config)


def build_training_tab(services: Services) -> None:
    """The Training tab's components and events (call inside a ``gr.Tab``)."""
    watched = gr.State(None)  # the run this browser session is looking at
    seen = gr.State(None)  # what the page shows, to skip unchanged polls
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("### Start a run")
            dataset = gr.Dropdown([d for d in DATASETS if not d.endswith("PATH")], value=DEFAULTS.dataset,
                                  label="Dataset", allow_custom_value=True, info="or imagefolder:PATH",
                                  elem_id="train-dataset")
            model = gr.Dropdown(list(MODELS), value=DEFAULTS.model, label="Model", elem_id="train-model")
            with gr.Row():
                epochs = gr.Number(DEFAULTS.epochs, label="Epochs", precision=0, elem_id="train-epochs")
                batch_size = gr.Number(DEFAULTS.batch_size, label="Batch size", precision=0, elem_id="train-batch-size")
            with gr.Row():
                optimizer = gr.Dropdown(list(OPTIMIZERS), value=DEFAULTS.optimizer, label="Optimizer")
                lr = gr.Number(DEFAULTS.lr, label="Learning rate", elem_id="train-lr")
            with gr.Row():
                scheduler = gr.Dropdown(list(SCHEDULERS), value=DEFAULTS.scheduler, label="Scheduler")
                seed = gr.Number(DEFAULTS.seed, label="Seed", precision=0)
            augment = gr.Checkbox(DEFAULTS.augment, label="Augment the training images")
            start = gr.Button("Start training", variant="primary", elem_id="train-start")
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                run_choice = gr.Dropdown([], label="Watching run", scale=4, elem_id="train-watch")
                cancel = gr.Button("Cancel run", variant="stop", scale=1, elem_id="train-cancel")
            status = gr.Markdown("Start a run, or pick one to watch.", elem_id="train-status")
            with gr.Row():
                loss_plot = gr.LinePlot(None, x="epoch", y="value", color="curve", title="Loss",
                                        y_title="loss", height=260, elem_id="train-loss-plot")
                accuracy_plot = gr.LinePlot(None, x="epoch", y="value", color="curve", title="Accuracy",
                                            y_title="accuracy", height=260, elem_id="train-accuracy-plot")
    gr.Markdown("### Runs (from this page, the chat and the CLI)")
    table = gr.Dataframe(runs_table(services), label="Runs", interactive=False, wrap=True, elem_id="train-runs")
    with gr.Row(equal_height=True):
        compare_choice = gr.Dropdown([], multiselect=True, label="Compare runs", scale=4, elem_id="train-compare-runs")
        compare = gr.Button("Compare", scale=1, elem_id="train-compare")
    compare_table = gr.Dataframe(headers=list(COMPARE_COLUMNS), label="Side by side", interactive=False, wrap=True,
                                 elem_id="train-compare-table")
    compare_plot = gr.Plot(label="Test accuracy by run", elem_id="train-compare-plot")
    timer = gr.Timer(POLL_SECONDS)
    form = [dataset, model, epochs, batch_size, optimizer, lr, scheduler, seed, augment]
    form_keys = ["dataset", "model", "epochs", "batch_size", "optimizer", "lr", "scheduler", "seed", "augment"]

    def on_start(dataset, model, epochs, batch_size, optimizer, lr, scheduler, seed, augment, request: gr.Request):
        values = (dataset, model, epochs, batch_size, optimizer, lr, scheduler, seed, augment)
        try:
            run_id = start_run(services, dict(zip(form_keys, values)), request.username)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
            warn(exc)
            return gr.skip(), gr.skip()
        gr.Info(f"training run {run_id} started")
        return run_id, None

    def on_cancel(run_id: str | None, request: gr.Request):
        if not run_id:
            gr.Warning("choose a run to cancel first")
            return gr.skip()
        try:
            summary = services.runs_for(request.username).cancel(run_id)
        except Exception as exc:  # noqa: BLE001
            warn(exc)
            return gr.skip()
        gr.Info(f"run {run_id} is {summary.status}")
        return None

    def refresh(run_id: str | None, shown: Any):
        """Everything the timer updates; gr.skip() for all of it when nothing changed."""
        try:
            summaries = services.runs.list()
            summary = next((s for s in summaries if s.id == run_id), None)
            metrics = services.runs.metrics(run_id) if summary else []
        except Exception as exc:  # noqa: BLE001 - a half-written record: try again next tick
            warn(exc)
            return (gr.skip(),) * 7
        state = ([(s.id, s.status, s.epochs_completed) for s in summaries], run_id, len(metrics),
                 summary.status if summary else None)
        if state == shown:
            return (gr.skip(),) * 7
        ids = [s.id for s in reversed(summaries)]
        return (
            state,
            runs_table(services),
            gr.update(choices=ids, value=run_id),
            gr.update(choices=ids),
            run_status_markdown(summary) if summary else "Start a run, or pick one to watch.",
            curves(metrics, {"train_loss": "train loss", "test_loss": "test loss"}),
            curves(metrics, {"train_accuracy": "train accuracy", "test_accuracy": "test accuracy"}),
        )

    def on_compare(run_ids: list[str] | None):
        if not run_ids:
            gr.Warning("choose one or more runs to compare")
            return gr.skip(), gr.skip()
        try:
            summaries = services.runs.compare(list(run_ids))
            plot = comparison_figure(services, list(run_ids))
        except Exception as exc:  # noqa: BLE001
            warn(exc)
            return gr.skip(), gr.skip()
        return pd.DataFrame([{c: _cell(getattr(s, c)) for c in COMPARE_COLUMNS} for s in summaries]), plot

    outputs = [seen, table, run_choice, compare_choice, status, loss_plot, accuracy_plot]
    start.click(on_start, form, [watched, seen], api_name=False).then(  # the API: ui/api.py
        refresh, [watched, seen], outputs, api_name=False)
    cancel.click(on_cancel, run_choice, seen, api_name=False).then(
        refresh, [watched, seen], outputs, api_name=False)
    run_choice.input(lambda r: (r, None), run_choice, [watched, seen], api_name=False).then(
        refresh, [watched, seen], outputs, api_name=False)
    timer.tick(refresh, [watched, seen], outputs, api_name=False, show_progress="hidden")
    compare.click(on_compare, compare_choice, [compare_table, compare_plot], api_name=False)


def _cell(value: Any) -> Any:
    """Table cells: rounded floats, blanks for missing values."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return value
