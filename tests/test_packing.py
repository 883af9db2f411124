"""Schema-prefix packing computes exactly what unpacked training computes."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.prompt import build_completion, example_prompt
from smolsql.records import Example
from smolsql.solved import with_solved
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

    from smolsql.train.attention import use_segment_attention

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    use_segment_attention(model)
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


WITH_SOLVED = with_solved(EXAMPLES, k=2)  # the others on the same schema, before each question


@pytest.mark.parametrize("examples", [EXAMPLES, WITH_SOLVED], ids=["plain", "solved"])
def test_packed_loss_equals_unpacked_loss(tiny, examples: list[Example]) -> None:
    import torch

    model, tokenizer = tiny
    packed, skipped = pack_by_prefix(examples, tokenizer, max_length=2048, seed=1)
    assert skipped == 0 and len(packed) == 2  # one sequence per schema
    batch = collate([p.__dict__ for p in packed], tokenizer.pad_token_id)  # padded batch of 2
    with torch.no_grad():
        packed_sum = completion_loss(model, batch, reduction="sum").item()
    unpacked_sum = sum(_unpacked_loss_sum(model, tokenizer, e) for e in examples)
    assert packed_sum == pytest.approx(unpacked_sum, rel=1e-4)
    tokens_packed = sum(len(p.input_ids) for p in packed)
    tokens_unpacked = sum(
        len(tokenizer(example_prompt(e) + build_completion(e.sql))["input_ids"]) for e in examples
    )
    assert tokens_packed < tokens_unpacked


def test_packed_gradients_equal_unpacked_gradients(tiny) -> None:
    """Segment attention's backward too: the optimizer sees the same update as unpacked."""
    import torch

    model, tokenizer = tiny
    packed, _ = pack_by_prefix(EXAMPLES, tokenizer, max_length=2048, seed=1)
    model.zero_grad()
    completion_loss(
        model, collate([p.__dict__ for p in packed], tokenizer.pad_token_id), reduction="sum"
    ).backward()
    packed_grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    for e in EXAMPLES:
        prompt = tokenizer(example_prompt(e), add_special_tokens=False)["input_ids"]
        answer = tokenizer(build_completion(e.sql), add_special_tokens=False)["input_ids"]
        labels = torch.tensor([[IGNORE] * len(prompt) + answer])
        model(input_ids=torch.tensor([prompt + answer]), labels=labels).loss.mul(
            len(answer)
        ).backward()
    for name, param in model.named_parameters():
        assert torch.allclose(packed_grads[name], param.grad, rtol=1e-3, atol=1e-6), name
    model.zero_grad()


@pytest.mark.parametrize(
    ("segment_ids", "prefix", "spans"),
    [
        ([0, 0, 1, 1, 1, 2, -1], 2, [[2, 3, 4], [5]]),
        ([0, 0, 0, 1, 2, 2], 3, [[3], [4, 5]]),
        ([0, 0, -1, -1], 2, []),
    ],
)
def test_layout_finds_each_segment(segment_ids, prefix, spans) -> None:
    import torch

    from smolsql.train.attention import layouts

    (layout,) = layouts(torch.tensor([segment_ids]))
    assert layout.prefix == prefix and layout.length == len(segment_ids)
    assert layout.tokens == sum(len(span) for span in spans)
    found = [
        row[ok].tolist()
        for group in layout.groups
        for row, ok in zip(group.index, group.valid, strict=True)
    ]
    assert sorted(found) == spans


def test_without_a_layout_it_is_plain_attention(tiny, tiny_model_dir: Path) -> None:
    """The trained model object still generates normally (no layout passed)."""
    import torch
    from transformers import AutoModelForCausalLM

    model, tokenizer = tiny
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    ids = torch.tensor([tokenizer(example_prompt(EXAMPLES[0]))["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, plain(input_ids=ids).logits, atol=1e-5)


def test_packed_loss_needs_segment_attention(tiny, tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    from smolsql.errors import SmolsqlError

    _, tokenizer = tiny
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    packed, _ = pack_by_prefix(EXAMPLES, tokenizer, max_length=2048)
    with pytest.raises(SmolsqlError, match="segment attention"):
        completion_loss(plain, collate([packed[0].__dict__], tokenizer.pad_token_id))


def test_labels_cover_only_the_sql_and_the_end_of_turn(tiny) -> None:
    _, tokenizer = tiny
    packed, _ = pack_by_prefix(EXAMPLES[3:], tokenizer, max_length=2048)
    (seq,) = packed
    labelled = [t for t, lab in zip(seq.input_ids, seq.labels, strict=True) if lab != IGNORE]
    text = tokenizer.decode(labelled)
    assert text == "SELECT name FROM city<|im_end|>"
    packed, _ = pack_by_prefix(WITH_SOLVED[:1], tokenizer, max_length=2048)
    (seq,) = packed  # the solved examples' SQL is prompt, not target
    labelled = [t for t, lab in zip(seq.input_ids, seq.labels, strict=True) if lab != IGNORE]
    assert WITH_SOLVED[0].solved and "Oldest" in tokenizer.decode(seq.input_ids)
    assert tokenizer.decode(labelled) == "SELECT count(*) FROM singer<|im_end|>"
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
