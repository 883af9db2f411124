"""Fine-tuning: Examples -> a LoRA adapter (or full weights), on CPU, one GPU or many.

Two data paths share one model, one prompt format and one set of outputs:
- `packing: prefix`: schema-prefix packing (see `packing.py`) on transformers' Trainer;
- `packing: none`: TRL's SFTTrainer on prompt/completion pairs, loss on the SQL only.
Both write to the run folder: the resolved config, metrics.jsonl, loss.png,
train_summary.json, best/ (the best epoch, with --execution-eval) and final/; and
checkpoints to the cache folder (`checkpoint_dir`), so a stopped run resumes from there.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from smolsql.data.loaders import load_examples, load_sources, read_database_names
from smolsql.errors import SmolsqlError
from smolsql.link import with_linked_schemas
from smolsql.models import (
    PROMPT_NOTES,
    base_location,
    cache_dir,
    load_model,
    load_tokenizer,
    quiet_transformers,
    resolve_model,
)
from smolsql.prompt import build_completion, example_prompt
from smolsql.records import Example
from smolsql.solved import with_solved
from smolsql.train.config import TrainConfig
from smolsql.train.precision import hardware, resolve_precision


def split_examples(config: TrainConfig) -> tuple[list[Example], list[Example]]:
    excluded = read_database_names(config.exclude_databases) if config.exclude_databases else ()
    examples = load_sources(config.data, config.limit, config.value_hints, excluded)
    if not config.schema_in_prompt:
        examples = [replace(e, schema="") for e in examples]
    if config.eval_data:
        held_out = load_examples(config.eval_data, value_hints=config.value_hints)
        train, held_out = examples, _with_solved(config, held_out)  # from its own questions
    else:
        rng = random.Random(config.seed)
        shuffled = examples[:]
        rng.shuffle(shuffled)
        n_eval = int(len(shuffled) * config.eval_fraction)
        train, held_out = shuffled[n_eval:], shuffled[:n_eval]
        held_out = _with_solved(config, held_out, train)
    return _with_links(config, _with_solved(config, train)), held_out


def _with_links(config: TrainConfig, examples: list[Example]) -> list[Example]:
    """A `linked_prompts` share of `examples` with their linked schema (gold tables kept).

    Only training's own examples: eval loss and the execution eval see whole schemas, as
    the default serving does.
    """
    if not config.linked_prompts:
        return examples
    rng = random.Random(config.seed + 1)  # not the shuffle's draws
    chosen = [i for i in range(len(examples)) if rng.random() < config.linked_prompts]
    linked = with_linked_schemas([examples[i] for i in chosen], keep_gold=True)
    out = examples[:]
    for i, example in zip(chosen, linked, strict=True):
        out[i] = example
    shown = sum(bool(e.linked_schema) for e in out)
    print(f"smolsql train: {shown} of {len(out)} training prompts show a linked schema")
    return out


def _with_solved(
    config: TrainConfig, examples: list[Example], pool: list[Example] | None = None
) -> list[Example]:
    """Solved examples (`smolsql.solved`) from `pool` (default: `examples`), when configured."""
    if not config.solved_examples:
        return examples
    return with_solved(examples, config.solved_examples, pool, vary_seed=config.seed)


def load_for_training(config: TrainConfig, warm_start: str | None = None) -> tuple[Any, Any]:
    """The model in fp32, whatever the precision (autocast does the bf16), LoRA when asked.

    `warm_start` names a model whose weights (its adapter merged) replace the base's.
    """
    quiet_transformers()
    import torch
    from transformers import AutoModelForCausalLM

    spec = resolve_model(config.model)
    if spec.adapter:
        raise SmolsqlError("train from a base model, not an adapter folder")
    tokenizer = load_tokenizer(spec)
    warm = resolve_model(None if warm_start == "default" else warm_start) if warm_start else None
    if warm and config.lora:
        if not warm.adapter:
            raise SmolsqlError(f"a LoRA run warm-starts from an adapter; {warm_start} is none")
        return load_model(warm, merge=False, trainable=True), tokenizer
    if warm:
        model = load_model(warm)  # a full fine-tune goes on from the merged weights
        model.train().requires_grad_(True)  # peft froze the base before merging
    else:
        model = AutoModelForCausalLM.from_pretrained(
            base_location(spec.base), dtype=torch.float32, attn_implementation="sdpa"
        )
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    if config.lora:
        from peft import LoraConfig, get_peft_model

        target = config.lora_target_modules
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=target if target == "all-linear" else target.split(","),
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
    return model, tokenizer


def checkpoint_dir(config: TrainConfig) -> Path:
    """Checkpoints live outside the repo by default: the cache folder, by run name."""
    if config.checkpoint_dir:
        return Path(config.checkpoint_dir).expanduser()
    return cache_dir() / "runs" / Path(config.output_dir).resolve().name


def training_arguments(config: TrainConfig, has_eval: bool, **extra: Any) -> dict[str, Any]:
    import torch

    bf16 = resolve_precision(config.precision) == "bf16"
    return {
        "output_dir": str(checkpoint_dir(config)),
        "num_train_epochs": config.num_train_epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "per_device_eval_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler_type,
        "warmup_steps": config.warmup_ratio,  # a float below 1 is a share of all steps
        "weight_decay": config.weight_decay,
        "logging_steps": config.logging_steps,
        "eval_strategy": "steps" if has_eval else "no",
        "eval_steps": config.eval_steps,
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "seed": config.seed,
        "torch_compile": config.torch_compile,
        "bf16": bf16,  # autocast over fp32 weights, on the CPU too (use_cpu below)
        "use_cpu": not torch.cuda.is_available() and not torch.backends.mps.is_available(),
        "report_to": [],
        "disable_tqdm": False,  # a progress bar, whatever the library log level
        "remove_unused_columns": False,
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": torch.cuda.is_available(),
        "include_num_input_tokens_seen": "non_padding",  # tokens/s in the logs and summary
        **extra,
    }


def build_trainer(
    config: TrainConfig, model: Any, tokenizer: Any, train: list[Example], held_out: list[Example]
) -> Any:
    from smolsql.train.callbacks import ExecutionCallback, MetricsCallback

    callbacks: list[Any] = [MetricsCallback(Path(config.output_dir))]
    if config.execution_eval:
        examples = load_examples(config.execution_eval, value_hints=config.value_hints)
        callbacks.append(ExecutionCallback(examples, tokenizer, config))
    if config.packing == "prefix":
        return _packed_trainer(config, model, tokenizer, train, held_out, callbacks)
    return _sft_trainer(config, model, tokenizer, train, held_out, callbacks)


def _packed_trainer(config, model, tokenizer, train, held_out, callbacks) -> Any:
    from transformers import Trainer, TrainingArguments

    from smolsql.train.attention import use_segment_attention
    from smolsql.train.packing import collate, completion_loss, pack_by_prefix

    class PackedTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if num_items_in_batch is None:
                loss = completion_loss(model, inputs)
            else:
                loss = completion_loss(model, inputs, reduction="sum") / num_items_in_batch
            return (loss, {"loss": loss}) if return_outputs else loss

    def dataset(examples: list[Example]) -> list[dict]:
        """A plain list of packed sequences: the Trainer needs no `datasets` library for it."""
        packed, skipped = pack_by_prefix(examples, tokenizer, config.max_length, config.seed)
        if skipped:
            print(f"smolsql train: {skipped} examples longer than max_length were left out")
        return [dict(p.__dict__) for p in packed]

    use_segment_attention(model)
    args = TrainingArguments(**training_arguments(config, bool(held_out)))
    return PackedTrainer(
        model=model,
        args=args,
        train_dataset=dataset(train),
        eval_dataset=dataset(held_out) if held_out else None,
        data_collator=lambda batch: collate(batch, tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def prompt_completion_rows(examples: list[Example]) -> list[dict[str, str]]:
    return [
        {"prompt": example_prompt(e), "completion": build_completion(e.sql or "")} for e in examples
    ]


def _sft_trainer(config, model, tokenizer, train, held_out, callbacks) -> Any:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        **training_arguments(config, bool(held_out)),
        max_length=config.max_length,
        completion_only_loss=True,
        packing=False,
    )
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(prompt_completion_rows(train)),
        eval_dataset=Dataset.from_list(prompt_completion_rows(held_out)) if held_out else None,
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def resume_point(config: TrainConfig) -> tuple[str | None, str | None]:
    """(checkpoint to resume, model to warm-start from): 'last' falls back to a new run.

    A stop ends the process, and a new machine has no cache: then the run starts anew from
    the weights the config names (`warm_start`, else the base), and says so. It never
    falls back to the shipped model unasked: that model has seen every Spider database, so
    a study arm started from it would be scored on databases it trained on.
    """
    resume = config.resume_from_checkpoint
    if resume != "last":
        return (str(Path(resume).expanduser()) if resume else None), config.warm_start
    from transformers.trainer_utils import get_last_checkpoint

    folder = checkpoint_dir(config)
    last = get_last_checkpoint(str(folder)) if folder.is_dir() else None
    if last:
        print(f"smolsql train: resuming from {last}")
        return last, None
    warm = config.warm_start
    start = {None: f"the base model {config.model}", "default": "the shipped model"}
    print(
        f"smolsql train: no checkpoint in {folder}; starting a new run from the weights "
        f"of {start.get(warm, warm)}"
    )
    return None, warm


def progress_at(checkpoint: str | None) -> tuple[int, float]:
    """Tokens seen and epochs done when a run resumes, so that its speed counts only its own.

    Without this, a run resumed near its end divides the whole run's tokens by its last
    minutes and reports a speed several times the real one.
    """
    if not checkpoint:
        return 0, 0.0
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
    return int(state.get("num_input_tokens_seen") or 0), float(state.get("epoch") or 0.0)


def train(config: TrainConfig) -> Path:
    """Run one training; returns the folder of the final adapter (or model)."""
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(config.to_yaml())
    train_set, held_out = split_examples(config)
    if not train_set:
        raise SmolsqlError(f"{config.data} gave no training examples")
    resume, warm_start = resume_point(config)
    model, tokenizer = load_for_training(config, warm_start)
    trainer = build_trainer(config, model, tokenizer, train_set, held_out)
    tokens_before, epochs_before = progress_at(resume)
    start = time.time()
    trainer.train(resume_from_checkpoint=resume)
    final = out / "final"
    save_model(trainer.model, tokenizer, final, config)
    seconds = time.time() - start
    tokens = trainer.state.num_input_tokens_seen
    epochs = (trainer.state.epoch or 0) - epochs_before
    summary = {
        "wall_time_s": round(seconds, 1),
        "examples": len(train_set),
        "global_step": trainer.state.global_step,
        "tokens": tokens,
        "tokens_this_run": tokens - tokens_before,
        "tokens_per_s": round((tokens - tokens_before) / seconds, 1),
        "examples_per_s": round(len(train_set) * epochs / seconds, 2),
        "precision": resolve_precision(config.precision),
        "resumed_from": resume,
        "warm_start": config.warm_start,  # where the run began, resumed or not
        **hardware(),
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return final


def save_model(model: Any, tokenizer: Any, folder: Path, config: TrainConfig) -> None:
    """The trained model (or adapter) with its tokenizer, as `--model` loads it."""
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    notes = {"solved_examples": config.solved_examples, "value_hints": config.value_hints}
    (folder / PROMPT_NOTES).write_text(json.dumps(notes, indent=2) + "\n")
    if config.lora:
        finalize_adapter(folder, config.model, config.adapter_dtype)


def finalize_adapter(folder: Path, base: str, dtype_name: str = "bfloat16") -> None:
    """Store an adapter (final, or a checkpoint's) in a smaller dtype, its base as named.

    The trainer records the base's resolved path (a cache folder on this machine);
    the name the user gave (a hub id, or the offline alias) works on every machine.
    """
    import torch
    from safetensors.torch import load_file, save_file

    path = folder / "adapter_model.safetensors"
    dtype = getattr(torch, dtype_name)
    tensors = {k: v.to(dtype) for k, v in load_file(path).items()}
    save_file(tensors, path, metadata={"format": "pt"})
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = base
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
