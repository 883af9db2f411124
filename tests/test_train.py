"""Training on a tiny random model: real steps, real checkpoints, a few seconds each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from smolsql.train.config import TrainConfig, resolve
from smolsql.train.sft import build_trainer, load_for_training, split_examples, train

CONFIGS = Path(__file__).parents[1] / "configs"


@pytest.fixture
def spider_dir(tmp_path: Path) -> Path:
    from smolsql.sample import SCRIPT, build_sqlite

    build_sqlite(SCRIPT, tmp_path / "database" / "shop" / "shop.sqlite")
    qs = [
        ("How many artists?", "SELECT count(*) FROM artist"),
        ("List album titles.", "SELECT title FROM album"),
        ("Cities of customers?", "SELECT DISTINCT city FROM customer"),
        ("Priciest album?", "SELECT title FROM album ORDER BY price DESC LIMIT 1"),
    ] * 3
    items = [{"db_id": "shop", "question": q, "query": s} for q, s in qs]
    (tmp_path / "train.json").write_text(json.dumps(items))
    return tmp_path


def _config(tiny_model_dir: Path, spider_dir: Path, out: Path, **kw: object) -> TrainConfig:
    values = {"model": str(tiny_model_dir), "data": str(spider_dir / "train.json"),
              "output_dir": str(out), "max_steps": 3, "logging_steps": 1, "eval_steps": 2,
              "save_steps": 2, "learning_rate": 1e-2, "eval_fraction": 0.25, "max_length": 256,
              "gradient_accumulation_steps": 1, "lora_dropout": 0.0, **kw}  # fmt: skip
    return TrainConfig.build(values)


@pytest.mark.parametrize(("packing", "lora"), [("prefix", True), ("none", True), ("prefix", False)])
def test_steps_change_every_trainable_parameter_and_no_frozen_one(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path, packing: str, lora: bool
) -> None:
    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", packing=packing, lora=lora)
    model, tokenizer = load_for_training(config)
    train_set, held_out = split_examples(config)
    trainer = build_trainer(config, model, tokenizer, train_set, held_out)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer.train()
    for name, param in model.named_parameters():
        changed = not param.detach().equal(before[name])
        assert changed == param.requires_grad, name
    logs = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert any("loss" in r for r in logs) and any("eval_loss" in r for r in logs)


def test_sft_labels_mask_the_prompt_and_train_the_end_of_turn(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path
) -> None:
    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", packing="none")
    model, tokenizer = load_for_training(config)
    trainer = build_trainer(config, model, tokenizer, *split_examples(config))
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [t for t, lab in zip(ids, labels, strict=True) if lab != -100]
    text = tokenizer.decode(trained)
    assert text.startswith("SELECT") and "<|im_end|>" in text
    assert "Write a SQL query for" in tokenizer.decode(ids) and "Write" not in text


def test_train_writes_adapter_and_resume_continues(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    final = train(_config(tiny_model_dir, spider_dir, run, max_steps=2))
    assert (final / "adapter_model.safetensors").exists()
    assert json.loads((final / "adapter_config.json").read_text())[
        "base_model_name_or_path"
    ] == str(tiny_model_dir)
    assert (run / "loss.png").exists() and (run / "config.yaml").exists()
    assert (run / "checkpoint-2").is_dir()
    config = _config(tiny_model_dir, spider_dir, run)
    model, tokenizer = load_for_training(config)
    packed = build_trainer(config, model, tokenizer, *split_examples(config)).train_dataset
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["global_step"] == 2
    lengths = [len(row["input_ids"]) for row in packed]
    assert summary["tokens"] in {a + b for a in lengths for b in lengths}  # 2 sequences, no pads
    (run / "metrics.jsonl").unlink()
    train(_config(tiny_model_dir, spider_dir, run, max_steps=4, resume_from_checkpoint="last"))
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert min(steps) == 3 and max(steps) == 4  # continued from step 2, not from 0
    from smolsql.models import resolve_model

    assert resolve_model(str(final)).adapter == str(final)  # usable as --model


def test_seed_preset_is_the_original_setup() -> None:
    config = resolve(str(CONFIGS / "seed.yaml"), {})
    assert (config.model, config.data, config.schema_in_prompt) == (
        "HuggingFaceTB/SmolLM2-135M", "gretel:train", False)  # fmt: skip
    assert (config.max_steps, config.per_device_train_batch_size,
            config.gradient_accumulation_steps, config.learning_rate,
            config.save_steps, config.eval_steps) == (3000, 2, 8, 2e-5, 500, 500)  # fmt: skip
    assert resolve(str(CONFIGS / "seed.yaml"), {"max_steps": 10}).max_steps == 10


def test_every_preset_loads_and_bad_settings_are_named(tmp_path: Path) -> None:
    for preset in CONFIGS.glob("*.yaml"):
        resolve(str(preset), {})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"learning_rte": 1}))
    from smolsql.errors import SmolsqlError

    with pytest.raises(SmolsqlError, match="unknown training setting"):
        resolve(str(bad), {})


def test_execution_accuracy_is_logged_after_each_epoch(tiny_model_dir, spider_dir, tmp_path):
    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", max_steps=-1,
                     num_train_epochs=2, execution_eval=str(spider_dir / "train.json"))  # fmt: skip
    train(config)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    measured = [r for r in rows if "eval_execution_accuracy" in r]
    assert [round(r["epoch"]) for r in measured] == [1, 2]
    assert all(0 <= r["eval_execution_accuracy"] <= 1 for r in measured)
    assert any("loss" in r for r in rows)  # the usual logs are still there


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _has_cuda(), reason="no CUDA GPU on this machine: the GPU path is not run")
def test_a_step_on_a_cuda_gpu_in_bf16(tiny_model_dir: Path, spider_dir: Path, tmp_path: Path):
    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", max_steps=1)
    model, tokenizer = load_for_training(config)
    trainer = build_trainer(config, model, tokenizer, *split_examples(config))
    assert trainer.args.bf16 and next(model.parameters()).dtype.is_floating_point
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    trainer.train()
    assert next(model.parameters()).device.type == "cuda"
    assert all(not p.detach().equal(before[n]) for n, p in model.named_parameters() if n in before)
