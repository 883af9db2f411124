"""Schema-prefix packing computes exactly what unpacked training computes."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.predict import example_prompt
from smolsql.prompt import build_completion
from smolsql.records import Example
from smolsql.train.packing import IGNORE, collate, completion_loss, pack_by_prefix

SCHEMA_A = "CREATE TABLE singer (id INT PRIMARY KEY, name TEXT, age INT);"
SCHEMA_B = "CREATE TABLE city (id INT, name TEXT);"
EXAMPLES = [
    Example("How many singers?", SCHEMA_A, "SELECT count(*) FROM singer", id="1"),
    Example(
        "Oldest singer?", SCHEMA_A, "SELECT name FROM singer ORDER BY age DESC LIMIT 1", id="2"
    ),
    Example("Singers over 30?", SCHEMA_A, "SELECT name FROM singer WHERE age > 30", id="3"),
    Example("List cities.", SCHEMA_B, "SELECT name FROM city", id="4"),
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    return model.eval(), AutoTokenizer.from_pretrained(tiny_model_dir)


def _unpacked_loss_sum(model, tokenizer, example: Example) -> float:
    import torch
    import torch.nn.functional as F

    prompt = tokenizer(example_prompt(example), add_special_tokens=False)["input_ids"]
    answer = tokenizer(build_completion(example.sql), add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0]
    targets = torch.tensor(answer)
    return F.cross_entropy(logits[len(prompt) - 1 : -1], targets, reduction="sum").item()


def test_packed_loss_equals_unpacked_loss(tiny) -> None:
    import torch

    model, tokenizer = tiny
    packed, skipped = pack_by_prefix(EXAMPLES, tokenizer, max_length=2048, seed=1)
    assert skipped == 0 and len(packed) == 2  # one sequence per schema
    batch = collate([p.__dict__ for p in packed], tokenizer.pad_token_id)  # padded batch of 2
    with torch.no_grad():
        packed_sum = completion_loss(model, batch, reduction="sum").item()
    unpacked_sum = sum(_unpacked_loss_sum(model, tokenizer, e) for e in EXAMPLES)
    assert packed_sum == pytest.approx(unpacked_sum, rel=1e-4)
    tokens_packed = sum(len(p.input_ids) for p in packed)
    tokens_unpacked = sum(
        len(tokenizer(example_prompt(e) + build_completion(e.sql))["input_ids"]) for e in EXAMPLES
    )
    assert tokens_packed < tokens_unpacked


def test_labels_cover_only_the_sql_and_the_end_of_turn(tiny) -> None:
    _, tokenizer = tiny
    packed, _ = pack_by_prefix(EXAMPLES[3:], tokenizer, max_length=2048)
    (seq,) = packed
    labelled = [t for t, lab in zip(seq.input_ids, seq.labels, strict=True) if lab != IGNORE]
    text = tokenizer.decode(labelled)
    assert text == "SELECT name FROM city<|im_end|>"
    assert seq.labels[: seq.segment_ids.count(0)] == [IGNORE] * seq.segment_ids.count(0)


def test_sequences_respect_max_length_and_restart_the_prefix(tiny) -> None:
    _, tokenizer = tiny
    packed, skipped = pack_by_prefix(EXAMPLES[:3], tokenizer, max_length=90)
    assert all(len(p.input_ids) <= 90 for p in packed)
    assert len(packed) >= 2 and skipped == 0
    for p in packed:  # every sequence starts with the whole prefix, positions restart after it
        n_prefix = p.segment_ids.count(0)
        assert p.position_ids[:n_prefix] == list(range(n_prefix))
        first_seg = p.segment_ids.index(1)
        assert p.position_ids[first_seg] == n_prefix
    packed, skipped = pack_by_prefix(EXAMPLES[:3], tokenizer, max_length=40)
    assert packed == [] and skipped == 3  # a prefix alone too long: said, not silently cut
