"""Training on a tiny random model: real steps, real checkpoints, a few seconds each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import requires_cuda

from smolsql.errors import SmolsqlError
from smolsql.train.config import TrainConfig, resolve
from smolsql.train.sft import build_trainer, load_for_training, split_examples, train

CONFIGS = Path(__file__).parents[1] / "configs"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checkpoints go to the cache folder: a fresh one per test, never the user's."""
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def spider_dir(tmp_path: Path) -> Path:
    from smolsql.data.sample import SCRIPT, build_sqlite

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
    values = {
        "model": str(tiny_model_dir),
        "data": str(spider_dir / "train.json"),
        "output_dir": str(out),
        "max_steps": 3,
        "logging_steps": 1,
        "eval_steps": 2,
        "save_steps": 2,
        "learning_rate": 1e-2,
        "eval_fraction": 0.25,
        "max_length": 256,
        "gradient_accumulation_steps": 1,
        "lora_dropout": 0.0,
        **kw,
    }
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


def test_solved_examples_come_from_the_training_questions_only(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path
) -> None:
    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", solved_examples=2)
    train_set, held_out = split_examples(config)
    questions = {e.question for e in train_set}
    shown = [s for e in train_set + held_out for s in e.solved]
    assert shown and {s.question for s in shown} <= questions
    assert all(s.question != e.question for e in train_set for s in e.solved)
    assert {len(e.solved) for e in train_set} <= {0, 1, 2}
    assert all(
        not e.solved for e in split_examples(_config(tiny_model_dir, spider_dir, tmp_path))[0]
    )


def test_train_writes_adapter_and_resume_continues(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path, cache: Path
) -> None:
    run = tmp_path / "run"
    final = train(_config(tiny_model_dir, spider_dir, run, max_steps=2))
    assert (final / "adapter_model.safetensors").exists()
    assert json.loads((final / "adapter_config.json").read_text())[
        "base_model_name_or_path"
    ] == str(tiny_model_dir)
    assert (run / "loss.png").exists() and (run / "config.yaml").exists()
    # what its prompts held, so that serving knows whether to give it kept answers
    assert json.loads((final / "smolsql.json").read_text()) == {
        "solved_examples": 0,
        "value_hints": False,
    }
    assert (cache / "runs" / "run" / "checkpoint-2").is_dir()  # outside the run folder
    assert not list(run.glob("checkpoint-*"))
    config = _config(tiny_model_dir, spider_dir, run)
    model, tokenizer = load_for_training(config)
    packed = build_trainer(config, model, tokenizer, *split_examples(config)).train_dataset
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["global_step"] == 2
    lengths = [len(row["input_ids"]) for row in packed]
    assert summary["tokens"] in {a + b for a in lengths for b in lengths}  # 2 sequences, no pads
    with (run / "metrics.jsonl").open("a") as f:  # logged after checkpoint-2, then a stop
        f.write(json.dumps({"step": 3, "loss": 99.0}) + "\n" + '{"step": 4, "lo')  # cut short
    train(_config(tiny_model_dir, spider_dir, run, max_steps=4, resume_from_checkpoint="last"))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert min(r["step"] for r in rows) == 1 and max(r["step"] for r in rows) == 4
    assert 99.0 not in [r.get("loss") for r in rows]  # the steps redone are logged once
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)
    resumed = json.loads((run / "train_summary.json").read_text())
    # its speed counts the two steps it ran, not the two before the resume
    assert resumed["tokens_this_run"] == resumed["tokens"] - summary["tokens"] > 0
    from smolsql.models import resolve_model

    assert resolve_model(str(final)).adapter == str(final)  # usable as --model


def test_seed_preset_is_the_original_setup() -> None:
    config = resolve(str(CONFIGS / "seed.yaml"), {})
    assert (config.model, config.data, config.schema_in_prompt) == (
        "HuggingFaceTB/SmolLM2-135M",
        "gretel:train",
        False,
    )
    assert (
        config.max_steps,
        config.per_device_train_batch_size,
        config.gradient_accumulation_steps,
        config.learning_rate,
        config.save_steps,
        config.eval_steps,
    ) == (3000, 2, 8, 2e-5, 500, 500)
    assert resolve(str(CONFIGS / "seed.yaml"), {"max_steps": 10}).max_steps == 10


def test_every_preset_loads_and_bad_settings_are_named(tmp_path: Path) -> None:
    for preset in CONFIGS.glob("*.yaml"):
        resolve(str(preset), {})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"learning_rte": 1}))

    with pytest.raises(SmolsqlError, match="unknown training setting"):
        resolve(str(bad), {})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"max_steps": -5}, "max_steps is a number of optimizer steps"),
        ({"max_steps": 0}, "max_steps is a number of optimizer steps"),
        ({"max_steps": -1, "num_train_epochs": 0}, "num_train_epochs must be above 0"),
        ({"learning_rate": 0}, "learning_rate must be above 0"),
        ({"gradient_accumulation_steps": 0}, "must be at least 1"),
        ({"max_length": 8}, "max_length must be at least 64"),
        ({"eval_fraction": 1.5}, "eval_fraction is a share"),
        ({"save_steps": 0}, "save_steps must be at least 1"),
        ({"packing": "tight"}, "packing must be"),
        ({"linked_prompts": 2}, "linked_prompts is a share"),
    ],
)
def test_settings_out_of_range_are_named(setting: dict, message: str) -> None:
    with pytest.raises(SmolsqlError, match=message):
        resolve(str(CONFIGS / "seed.yaml"), setting)
    resolve(str(CONFIGS / "seed.yaml"), {"max_steps": 10, "num_train_epochs": 0})  # steps rule


def test_execution_accuracy_is_logged_after_each_epoch(tiny_model_dir, spider_dir, tmp_path):
    config = _config(
        tiny_model_dir,
        spider_dir,
        tmp_path / "run",
        max_steps=-1,
        num_train_epochs=2,
        execution_eval=str(spider_dir / "train.json"),
        keep_epochs=True,
    )
    train(config)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    measured = [r for r in rows if "eval_execution_accuracy" in r]
    assert [round(r["epoch"]) for r in measured] == [1, 2]
    assert all(0 <= r["eval_execution_accuracy"] <= 1 for r in measured)
    assert any("loss" in r for r in rows)  # the usual logs are still there
    best = json.loads((tmp_path / "run" / "best" / "best.json").read_text())
    top = max(r["eval_execution_accuracy"] for r in measured)
    first_top = next(r for r in measured if r["eval_execution_accuracy"] == top)
    assert (best["eval_execution_accuracy"], best["step"]) == (top, first_top["step"])
    assert (tmp_path / "run" / "best" / "adapter_model.safetensors").exists()
    kept = [(tmp_path / "run" / f"epoch-{n}" / "adapter_model.safetensors") for n in (1, 2)]
    assert kept[0].read_bytes() != kept[1].read_bytes()  # each epoch's own weights


@requires_cuda
def test_a_step_on_a_cuda_gpu_in_bf16(tiny_model_dir: Path, spider_dir: Path, tmp_path: Path):
    import torch

    config = _config(tiny_model_dir, spider_dir, tmp_path / "run", max_steps=1)
    model, tokenizer = load_for_training(config)
    trainer = build_trainer(config, model, tokenizer, *split_examples(config))
    assert trainer.args.bf16  # auto: a GPU with bf16 trains in bf16 autocast...
    assert all(p.dtype == torch.float32 for p in model.parameters())  # ...on fp32 weights
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    trainer.train()
    assert next(model.parameters()).device.type == "cuda"
    assert all(not p.detach().equal(before[n]) for n, p in model.named_parameters() if n in before)


def _train_steps(config: TrainConfig) -> tuple[float, dict, set]:
    """Mean loss of a few steps, the parameters before them, the dtypes linears output."""
    import torch

    torch.manual_seed(0)
    model, tokenizer = load_for_training(config)
    trainer = build_trainer(config, model, tokenizer, *split_examples(config))
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    seen: set = set()
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
        for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    result = trainer.train()
    for hook in hooks:
        hook.remove()
    assert all(not p.detach().equal(before[n]) for n, p in model.named_parameters() if n in before)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # fp32 master weights
    return result.training_loss, before, seen


@pytest.mark.parametrize("lora", [True, False])
def test_bf16_autocast_step_trains_every_parameter_with_fp32_weights(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path, lora: bool
) -> None:
    import torch

    # Two steps: LoRA's B moves first (it starts at zero), A only once B is not zero.
    kw = {"max_steps": 2, "eval_fraction": 0.0, "lora": lora, "warmup_ratio": 0.0}
    fp32 = _config(tiny_model_dir, spider_dir, tmp_path / "a", precision="fp32", **kw)
    bf16 = _config(tiny_model_dir, spider_dir, tmp_path / "b", precision="bf16", **kw)
    loss32, params, dtypes32 = _train_steps(fp32)
    loss16, _, dtypes16 = _train_steps(bf16)
    assert dtypes32 == {torch.float32} and torch.bfloat16 in dtypes16  # autocast ran in bf16
    assert params and loss16 == pytest.approx(loss32, rel=0.02)


@pytest.mark.parametrize(
    ("setting", "flags", "cuda_bf16", "expected"),
    [
        ("auto", "fpu sse avx512f avx512_bf16", None, "bf16"),  # AMD EPYC (Zen 4)
        ("auto", "fpu sse avx512f amx_bf16 amx_tile", None, "bf16"),  # Intel Sapphire Rapids
        ("auto", "fpu sse avx2 avx512f", None, "fp32"),  # older Xeon: no bf16 units
        ("auto", "fpu sse avx2", True, "bf16"),  # a CUDA GPU that has bf16
        ("auto", "fpu sse avx512_bf16", False, "fp32"),  # the GPU decides when there is one
        ("fp32", "avx512_bf16", None, "fp32"),
        ("bf16", "avx2", None, "bf16"),  # asked for: emulated, slow, but honoured
    ],
)
def test_precision_auto_follows_the_hardware(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting, flags, cuda_bf16, expected
) -> None:
    import torch

    from smolsql import machine
    from smolsql.train import precision

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n")
    monkeypatch.setattr(machine, "CPUINFO", cpuinfo)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_bf16 is not None)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bool(cuda_bf16))
    assert precision.resolve_precision(setting) == expected
    assert machine.cpu_model() == "Some CPU"


def test_unknown_precision_is_named() -> None:
    from smolsql.errors import SmolsqlError

    with pytest.raises(SmolsqlError, match="precision must be one of auto, fp32, bf16"):
        TrainConfig.build({"precision": "fp16"})


def test_resume_without_a_checkpoint_warm_starts_and_says_so(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import torch

    from smolsql.models import load_model, resolve_model
    from smolsql.train.sft import resume_point

    adapter = train(_config(tiny_model_dir, spider_dir, tmp_path / "first", max_steps=2))
    full = _config(
        tiny_model_dir,
        spider_dir,
        tmp_path / "second",
        lora=False,
        resume_from_checkpoint="last",
        warm_start=str(adapter),
    )
    assert resume_point(full) == (None, str(adapter))
    assert "no checkpoint in" in capsys.readouterr().out
    model, _ = load_for_training(full, str(adapter))
    merged = load_model(resolve_model(str(adapter)))
    expected = dict(merged.named_parameters())
    for name, param in model.named_parameters():
        assert torch.equal(param, expected[name]), name  # the adapter's weights, merged
    assert all(p.requires_grad for p in model.parameters())
    lora = _config(tiny_model_dir, spider_dir, tmp_path / "third", warm_start=str(adapter))
    peft_model, _ = load_for_training(lora, str(adapter))
    trainable = {n for n, p in peft_model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)  # the adapter trains on
    assert resume_point(
        _config(tiny_model_dir, spider_dir, tmp_path / "first", resume_from_checkpoint="last")
    )[0]
    fresh = _config(tiny_model_dir, spider_dir, tmp_path / "none", resume_from_checkpoint="last")
    assert resume_point(fresh) == (None, None)  # the base, never the shipped model unasked
    assert "weights of the base model" in capsys.readouterr().out


def test_checkpoint_paths_in_a_config_may_start_at_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """configs/spider-mix-linked-more.yaml resumes another run's checkpoint in the cache."""
    from smolsql.train.sft import checkpoint_dir, resume_point

    monkeypatch.setenv("HOME", str(tmp_path))
    config = TrainConfig.build(
        {"resume_from_checkpoint": "~/runs/a/checkpoint-240", "checkpoint_dir": "~/runs/b"}
    )
    assert resume_point(config) == (str(tmp_path / "runs/a/checkpoint-240"), None)
    assert checkpoint_dir(config) == tmp_path / "runs/b"


def test_linked_prompts_show_a_share_of_training_questions_their_tables(
    tiny_model_dir: Path, spider_dir: Path, tmp_path: Path
) -> None:
    from smolsql.link import sql_tables
    from smolsql.prompt import example_prompt
    from smolsql.schema import parse_ddl

    whole, _ = split_examples(_config(tiny_model_dir, spider_dir, tmp_path / "a"))
    assert not any(e.linked_schema for e in whole)
    linked, held_out = split_examples(
        _config(tiny_model_dir, spider_dir, tmp_path / "b", linked_prompts=1.0)
    )
    assert [e.question for e in linked] == [e.question for e in whole]  # same draws, same order
    assert all(e.linked_schema for e in linked) and not any(e.linked_schema for e in held_out)
    for example in linked:
        shown = {t.name for t in parse_ddl(example.linked_schema).tables}
        assert sql_tables(example.sql, parse_ddl(example.schema)) <= shown  # answerable
        assert "purchase" not in shown  # no question here is about purchases
        assert "CREATE TABLE purchase" not in example_prompt(example)
    half, _ = split_examples(
        _config(tiny_model_dir, spider_dir, tmp_path / "c", linked_prompts=0.5)
    )
    assert 0 < sum(bool(e.linked_schema) for e in half) < len(half)
    for bad in ({"linked_prompts": 1.5}, {"linked_prompts": 0.5, "schema_in_prompt": False}):
        with pytest.raises(SmolsqlError, match="linked_prompts"):
            _config(tiny_model_dir, spider_dir, tmp_path / "d", **bad)
