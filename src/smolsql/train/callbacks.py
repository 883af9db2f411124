"""What a training run leaves behind besides checkpoints: metrics.jsonl and loss.png.

And, when asked, validation execution accuracy after each epoch: loss says how well
the model imitates the gold SQL, not whether its SQL gives the right rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class MetricsCallback(TrainerCallback):
    """Appends each log (loss, eval loss, learning rate) to metrics.jsonl; plots at the end.

    A run that starts keeps only the records of the steps it starts after: none for a new
    run, those up to its checkpoint for a resumed one (the steps a stop undid are logged
    again, once).
    """

    def __init__(self, run: Path) -> None:
        self.path = run / "metrics.jsonl"
        self.run = run
        run.mkdir(parents=True, exist_ok=True)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any):
        if not state.is_world_process_zero or not self.path.exists():
            return
        lines = self.path.read_text().splitlines()
        kept = [line for line in lines if _step(line) <= state.global_step]
        if len(kept) < len(lines):
            self.path.write_text("".join(line + "\n" for line in kept))

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any):
        if logs and state.is_world_process_zero:
            record = {"step": state.global_step, "epoch": state.epoch, **logs}
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any):
        if state.is_world_process_zero:
            plot_loss(self.path, self.run / "loss.png")


def _step(line: str) -> float:
    """A metrics record's step; infinite for a line a stop cut short (it is dropped)."""
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return math.inf


class ExecutionCallback(TrainerCallback):
    """Greedy execution accuracy on `examples` after each epoch; the best epoch kept as best/.

    Logged to metrics.jsonl like the losses. best/ holds the model (or adapter) of the
    epoch with the highest accuracy so far, and best.json says which epoch that was; a
    resumed run reads it, so an earlier epoch is not beaten by a worse one. With
    keep_epochs, every epoch's model also stays as epoch-N/, for a study that scores each.
    """

    def __init__(self, examples: list, tokenizer: Any, config: Any, batch_size: int = 32) -> None:
        self.examples, self.tokenizer, self.batch_size = examples, tokenizer, batch_size
        self.config = config
        self.run = Path(config.output_dir)
        record = self.run / "best" / "best.json"
        self.best = json.loads(record.read_text()) if record.exists() else None

    def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any):
        if not state.is_world_process_zero or model is None:
            return
        import torch

        from smolsql.backends.base import GenerationSettings
        from smolsql.backends.transformers import TransformersBackend
        from smolsql.evaluate.metrics import score, summarize
        from smolsql.predict import predict

        was_training, side = model.training, self.tokenizer.padding_side
        model.eval()
        backend = TransformersBackend(
            model, self.tokenizer, "training", GenerationSettings(128, self.batch_size)
        )
        device = "cuda" if next(model.parameters()).is_cuda else "cpu"
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bool(args.bf16)):
            predictions = predict(backend, self.examples)
        summary = summarize([score(p) for p in predictions], by=())
        model.train(was_training)
        self.tokenizer.padding_side = side  # generation pads on the left; training as it was
        accuracy = summary["execution_accuracy"]
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            "eval_execution_accuracy": accuracy,
            "eval_syntax_valid": summary["syntax_valid"],
        }
        with (self.run / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"smolsql train: epoch {state.epoch:.2f}: validation execution accuracy {accuracy}")
        from smolsql.train.sft import save_model

        if self.config.keep_epochs:
            save_model(model, self.tokenizer, self.run / f"epoch-{round(state.epoch)}", self.config)
        if self.best is None or accuracy > self.best["eval_execution_accuracy"]:
            save_model(model, self.tokenizer, self.run / "best", self.config)
            (self.run / "best" / "best.json").write_text(json.dumps(record, indent=2) + "\n")
            self.best = record


def plot_loss(metrics: Path, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (
        [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.exists() else []
    )
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    held = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    if held:
        ax.plot(*zip(*held, strict=True), marker="o", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (SQL tokens)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
