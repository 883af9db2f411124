"""Training configuration: one dataclass, YAML presets in configs/, flags override the file."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smolsql.errors import SmolsqlError
from smolsql.train.precision import PRECISIONS


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    model: str = _f("HuggingFaceTB/SmolLM2-135M", "base: hub id, folder, or the offline alias")
    data: str | list = _f(  # noqa: RUF009 (a string default; YAML gives lists)
        "gretel:train",
        "gretel[:split], a Spider questions file, or a data file; in YAML also a list of "
        "them (and of {path, databases} for Spider-format files whose databases are "
        "elsewhere), concatenated, each distinct question/SQL pair once",
    )
    exclude_databases: str | None = _f(
        None,
        "a file of database names, one a line, whose questions training leaves out "
        "(a held-out set: configs/heldout-databases.txt)",
    )
    eval_data: str | None = _f(None, "separate eval set; else eval_fraction of the data")
    eval_fraction: float = _f(0.02, "share of the data held out for eval loss")
    execution_eval: str | None = _f(
        None,
        "questions with databases (Spider file, Example JSONL): greedy execution "
        "accuracy on them after each epoch, in metrics.jsonl",
    )
    keep_epochs: bool = _f(
        False,
        "with execution_eval, also keep each epoch's model as epoch-N/ in the run folder, "
        "so that every epoch can be scored later, not only the best",
    )
    limit: int | None = _f(None, "use only the first N training examples")
    schema_in_prompt: bool = _f(True, "put the schema in the prompt (the seed setup did not)")
    value_hints: bool = _f(False, "put database values the question names in the prompt (Spider)")
    solved_examples: int = _f(
        0,
        "up to N other training questions on the same database, with their SQL, before "
        "each question; how many is drawn from 0..N per question, so the model also "
        "learns to answer with none",
    )
    linked_prompts: float = _f(
        0.0,
        "share of training questions (drawn with the seed) whose prompt shows the linked "
        "schema, as --link-schema on would, with the gold SQL's tables added: the model "
        "learns the pruned prompts that schema linking serves (Spider-format data only)",
    )
    output_dir: str = _f("runs/train", "run folder: config, metrics, best/ and final/ models")
    checkpoint_dir: str | None = _f(
        None,
        "where checkpoints go; default: the cache folder's runs/<output_dir's name>, "
        "outside the repo, so that a stopped run resumes from there",
    )
    precision: str = _f(
        "auto",
        "auto: bf16 autocast where the CPU (avx512_bf16, amx_bf16) or GPU has native "
        "bf16, else fp32; fp32; bf16. Weights and optimizer state stay fp32 in every case",
    )
    packing: str = _f("prefix", "prefix: share each schema across its questions; none")
    max_length: int = _f(2048, "longest training sequence, in tokens")
    lora: bool = _f(True, "train a LoRA adapter (False: full fine-tuning)")
    lora_r: int = _f(16, "LoRA rank")
    lora_alpha: int = _f(32, "LoRA alpha")
    lora_dropout: float = _f(0.0, "LoRA dropout (draws a random mask per input: slow on CPU)")
    lora_target_modules: str = _f("all-linear", "modules LoRA adapts")
    num_train_epochs: float = _f(1.0, "epochs (ignored when max_steps > 0)")
    max_steps: int = _f(-1, "optimizer steps; -1 for num_train_epochs")
    per_device_train_batch_size: int = _f(1, "sequences per device per micro-batch")
    gradient_accumulation_steps: int = _f(4, "micro-batches per optimizer step")
    learning_rate: float = _f(2e-4, "peak learning rate")
    lr_scheduler_type: str = _f("cosine", "learning-rate schedule")
    warmup_ratio: float = _f(0.03, "share of steps spent warming up")
    weight_decay: float = _f(0.0, "AdamW weight decay")
    logging_steps: int = _f(5, "log every N steps")
    eval_steps: int = _f(100, "evaluate every N steps")
    save_steps: int = _f(100, "checkpoint every N steps")
    save_total_limit: int = _f(2, "checkpoints kept")
    seed: int = _f(42, "random seed (data order, LoRA init)")
    resume_from_checkpoint: str | None = _f(
        None,
        "a checkpoint folder, or 'last' (the newest in checkpoint_dir; when there is "
        "none, a new run starts from warm_start's weights, or the base's, saying so)",
    )
    warm_start: str | None = _f(
        None,
        "a model (adapter merged) whose weights a run starts from instead of the base's; "
        "'default' is the shipped model. Used when 'last' finds no checkpoint",
    )
    adapter_dtype: str = _f("bfloat16", "dtype the adapter is saved in (keeps it small)")
    torch_compile: bool = _f(
        False,
        "compile the model with torch.compile (slower on a 2-core "
        "CPU: it recompiles for each new sequence length)",
    )

    @classmethod
    def from_yaml(cls, path: str | Path) -> dict[str, Any]:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise SmolsqlError(f"config not found: {path}") from None
        except yaml.YAMLError as exc:
            raise SmolsqlError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise SmolsqlError(f"{path} must be a mapping of settings")
        return data

    @classmethod
    def build(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SmolsqlError(f"unknown training setting(s): {', '.join(unknown)}")
        config = cls(**values)
        for holds, message in RULES:
            if not holds(config):
                raise SmolsqlError(message)
        return config

    def to_yaml(self) -> str:
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=False)


RULES: tuple[tuple[Callable[[TrainConfig], bool], str], ...] = (
    (lambda c: c.packing in ("prefix", "none"), "packing must be 'prefix' or 'none'"),
    (lambda c: 0 <= c.linked_prompts <= 1, "linked_prompts is a share of the questions: 0 to 1"),
    (lambda c: not c.linked_prompts or c.schema_in_prompt,
     "linked_prompts shows part of the schema: it needs schema_in_prompt"),
    (lambda c: c.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
    (lambda c: c.max_steps == -1 or c.max_steps >= 1,
     "max_steps is a number of optimizer steps (at least 1), or -1 for num_train_epochs"),
    (lambda c: c.max_steps >= 1 or c.num_train_epochs > 0, "num_train_epochs must be above 0"),
    (lambda c: c.learning_rate > 0, "learning_rate must be above 0"),
    (lambda c: min(c.per_device_train_batch_size, c.gradient_accumulation_steps) >= 1,
     "per_device_train_batch_size and gradient_accumulation_steps must be at least 1"),
    (lambda c: c.max_length >= 64, "max_length must be at least 64 tokens: a schema and a query"),
    (lambda c: 0 <= c.eval_fraction < 1, "eval_fraction is a share of the data: 0 to below 1"),
    (lambda c: min(c.logging_steps, c.eval_steps, c.save_steps) >= 1,
     "logging_steps, eval_steps and save_steps must be at least 1"),
)  # fmt: skip
"""What a config must satisfy, each with the message that says so: checked in order by `build`."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (--max-steps ...); flags not given leave the file's value."""
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        annotation = str(f.type)
        kind = next((k for k in (bool, int, float) if annotation.startswith(k.__name__)), str)
        if kind is bool:
            parser.add_argument(
                flag,
                type=parse_bool,
                default=argparse.SUPPRESS,
                metavar="true|false",
                help=f.metadata["help"],
            )
        else:
            parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=f.metadata["help"])


def parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def resolve(config_file: str | None, overrides: dict[str, Any]) -> TrainConfig:
    values = TrainConfig.from_yaml(config_file) if config_file else {}
    values.update(overrides)
    return TrainConfig.build(values)
