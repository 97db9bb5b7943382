"""Start a training run: "train resnet18 on digits for 2 epochs", "can you fit the small cnn on digits?".

It changes runs, so it acts at once only on an explicit command naming the model and the dataset; otherwise it
proposes the run ("Start a run: resnet18 on digits, 2 epochs, batch 64?") and waits for a confirmation.

>>> INTENT.arguments("can you fit the small cnn on digits, three passes, lr 0.01?", [])
{'model': 'mnist_cnn', 'dataset': 'digits', 'epochs': 3, 'lr': 0.01}
"""

from __future__ import annotations

import re
from typing import Any

from coursemate.agents.intents import Clarify, Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import FLOAT, NUMBER, number
from coursemate.agents.intents._runs import EXAMPLE_TRAINING, TRAINING_TAB
from coursemate.tools.training import TrainingConfig

MODEL_ALIASES = {  # alias (a regex) -> model name; the longest alias is tried first
    r"mnist[_ -]?cnn": "mnist_cnn", r"(?:small|course(?:'s)?|little|tiny|mnist) (?:cnn|convnet)": "mnist_cnn",
    r"cnn": "mnist_cnn", r"convnet": "mnist_cnn", r"resnet[_ -]?18": "resnet18", r"resnet": "resnet18",
    r"mlp": "mlp", r"multi-?layer perceptron": "mlp", r"fully[ -]connected(?: network| baseline| net)?": "mlp",
    r"perceptron": "mlp",
}
DATASET_ALIASES = {
    r"(?:sklearn|scikit-learn|scikit)?[' ]*s? ?digits": "digits", r"fashion[_ -]?mnist": "fashion-mnist",
    r"mnist": "mnist", r"cifar[_ -]?10": "cifar10", r"cifar": "cifar10",
}
OPTIMIZER_ALIASES = {r"adamw": "adamw", r"adam": "adam", r"sgd": "sgd", r"(?:plain )?gradient descent": "sgd"}
SCHEDULER_ALIASES = {r"one[ -]?cycle": "onecycle", r"step (?:lr|schedule|scheduler|decay)": "step",
                     r"plateau": "plateau", r"(?:no |without (?:a |any )?)(?:lr )?(?:scheduler|schedule)": "none",
                     r"constant (?:lr|learning rate)": "none"}
NOT_DATASETS = {"a", "an", "the", "my", "it", "this", "that", "cpu", "gpu", "cuda", "top", "them", "me"}
SHOWN = ("model", "dataset", "epochs", "batch_size")  # what every proposal states; other settings when given


class Train(Intent):
    name = "train"
    tool = "start_training_run"
    changes_runs = True
    confirm_label = "Start"
    # a question can propose a run only as a suggestion ("how about a quick resnet18 run on digits?")
    question_cue = (r"^\W*(?:how about|what about|shall we|why not|maybe|perhaps)\b|"
                    r"\b(?:try it|run it|give (?:it|the [\w ]+) a go)\b")
    cues = (
        r"\b(?:train|fit|retrain|kick off|launch|start)\b.*"
        r"\b(?:mnist_cnn|cnn|mlp|resnet|digits|cifar|mnist|epoch|passes)",
        r"\b(?:try it|run it|give (?:it|the [\w ]+) a go)\b",
        r"^(?:please )?(?:train|fit|retrain)\b",
    )
    examples = (
        "train mnist_cnn on digits for 5 epochs",
        "start a training run",
        "train a model",
        "train the mlp on digits with adam",
        "run resnet18 on cifar10 for 10 epochs",
        "kick off a run of the small cnn",
        "fit the cnn on the digits data",
        "launch training with learning rate 0.01 and batch size 32",
        "please train a network for me",
        "can you train the course cnn for three epochs",
        "i want to train a model on mnist",
        "start training mnist_cnn with sgd lr 0.05",
        "do a quick training run on digits",
        "retrain the model with a lower learning rate",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return training_arguments(" ".join(text.lower().split()))

    def complete(self, arguments: dict[str, Any]) -> bool:
        return {"model", "dataset"} <= set(arguments)

    def proposal(self, arguments: dict[str, Any], context: Context) -> tuple[dict[str, Any], str]:
        config = _config(arguments)
        shown = f"Start a run: {config.model} on {config.dataset}, {_epochs(config)}, batch {config.batch_size}"
        extra = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in arguments.items() if k not in SHOWN)
        return arguments, shown + (f", {extra}" if extra else "") + "?"

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        config = _config(arguments)
        run_id = context.runs.start(config)
        what = (f"{config.model} on {config.dataset}, {_epochs(config)} (batch size {config.batch_size}, "
                f"{config.optimizer} lr {config.lr:g}, scheduler {config.scheduler})")
        text = f"Started training run {run_id}: {what}. Its loss and accuracy curves plot live in the Training tab."
        markdown = (f"Started training run `{run_id}`: {what}. Its live status shows under the chat; its "
                    f"{TRAINING_TAB}.")
        return Outcome(arguments, text, markdown, {"run_id": run_id, "config": config.to_dict()})


def _epochs(config: TrainingConfig) -> str:
    return f"{config.epochs} epoch{'' if config.epochs == 1 else 's'}"


def _config(arguments: dict[str, Any]) -> TrainingConfig:
    """The validated configuration (defaults for what is not given); Clarify when neither model nor dataset is."""
    if not {"model", "dataset"} & set(arguments):
        d = TrainingConfig()
        raise Clarify(f"Which model and dataset should I train? With the defaults I would train {d.model} on "
                      f"{d.dataset} for {d.epochs} epochs (batch size {d.batch_size}, {d.optimizer} lr {d.lr:g}); "
                      f'say for example "{EXAMPLE_TRAINING}".')
    return TrainingConfig.from_dict(arguments).validated()


def training_arguments(text: str) -> dict[str, Any]:
    """dataset, model, epochs, lr, optimizer, batch_size, scheduler, augment, seed: those the text states."""
    found: dict[str, Any] = {}
    rest = text
    model, rest = _alias(rest, MODEL_ALIASES)
    if model:
        found["model"] = model
    dataset, rest = _alias(rest, DATASET_ALIASES)
    if dataset is None:  # a dataset the course does not have: kept, so that validation names the valid ones
        named = re.search(r"\bdataset (?:called |named )?([a-z][\w:/.-]*)|\bon (?:the )?([a-z][\w:/.-]*)", rest)
        if named and (named.group(1) or named.group(2)) not in NOT_DATASETS:
            dataset = named.group(1) or named.group(2)
    if dataset:
        found["dataset"] = dataset
    epochs = (re.search(rf"(?<![\w.-])({NUMBER})\s*(?:full |training )?(?:epochs?|passes|pass|rounds?|sweeps?)\b",
                        rest)
              or re.search(rf"\bepochs?\s*(?:=|:|of|to)?\s*({NUMBER})\b", rest))
    if epochs:
        found["epochs"] = number(epochs.group(1))
    lr = re.search(rf"\b(?:lr|learning[ -]rate|step size)\s*(?:=|:|of|at|to|is)?\s*({FLOAT})", rest)
    if lr:
        found["lr"] = float(lr.group(1))
    optimizer, rest = _alias(rest, OPTIMIZER_ALIASES)
    if optimizer:
        found["optimizer"] = optimizer
    batch = (re.search(rf"\b(?:batch[ -]?size|batches of|batch of|mini-?batch(?:es)? of|bs)\s*(?:=|:|of)?\s*"
                       rf"({NUMBER})\b", rest)
             or re.search(rf"\b({NUMBER}) (?:per batch|images per batch|samples per batch)\b", rest))
    if batch:
        found["batch_size"] = number(batch.group(1))
    scheduler, rest = _alias(rest, SCHEDULER_ALIASES)
    if scheduler:
        found["scheduler"] = scheduler
    if re.search(r"\b(?:no|without) (?:data )?augment", rest):
        found["augment"] = False
    elif re.search(r"\baugment", rest):
        found["augment"] = True
    seed = re.search(r"\bseed\s*(?:=|:|of)?\s*(-?\d+)\b", rest)
    if seed:
        found["seed"] = int(seed.group(1))
    return found


def _alias(text: str, aliases: dict[str, str]) -> tuple[str | None, str]:
    """The value of the first alias found in ``text`` (longest patterns first), and the text without it."""
    for pattern in sorted(aliases, key=len, reverse=True):
        match = re.search(rf"(?<![\w-]){pattern}(?![\w-])", text)
        if match:
            return aliases[pattern], text[:match.start()] + " " + text[match.end():]
    return None, text


INTENT = Train()
