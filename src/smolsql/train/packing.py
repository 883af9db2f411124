"""Schema-prefix packing: one schema, many questions, in one training sequence.

Spider has ~50 questions per database and the schema is ~85% of each prompt's
tokens. A packed sequence holds the schema prefix once, then question/SQL
segments; each segment attends only to the prefix and itself (`attention.py`),
and position ids restart after the prefix, so every segment is
computed exactly as if it followed the prefix alone. Same loss, 5.6x
fewer tokens per Spider epoch at max_length 3072 (`benchmarks/packing_stats.py`).
Logits are computed only where loss is taken.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smolsql.errors import SmolsqlError
from smolsql.prompt import build_completion, example_prompt, shared_prefix
from smolsql.records import Example

IGNORE = -100


@dataclass(frozen=True)
class Packed:
    """One training sequence: a shared prefix (segment 0) and segments 1..n."""

    input_ids: list[int]
    labels: list[int]
    position_ids: list[int]
    segment_ids: list[int]


def encode_segment(tokenizer: Any, example: Example, prefix: str) -> tuple[list[int], list[int]]:
    """Token ids and labels of the part after the prefix: the question (unlabelled), the SQL."""
    prompt = example_prompt(example)
    question = tokenizer(prompt[len(prefix) :], add_special_tokens=False)["input_ids"]
    answer = tokenizer(build_completion(example.sql or ""), add_special_tokens=False)["input_ids"]
    return question + answer, [IGNORE] * len(question) + answer


def pack_by_prefix(
    examples: Sequence[Example], tokenizer: Any, max_length: int, seed: int = 0
) -> tuple[list[Packed], int]:
    """Packed sequences (shuffled), and how many examples were too long to fit at all."""
    rng = random.Random(seed)
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[shared_prefix(example_prompt(ex))].append(ex)
    packed: list[Packed] = []
    skipped = 0
    for prefix, members in groups.items():
        prefix_ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
        rng.shuffle(members)
        ids, labels, positions, segments = _start(prefix_ids)
        n_segments = 0
        for ex in members:
            seg_ids, seg_labels = encode_segment(tokenizer, ex, prefix)
            if len(prefix_ids) + len(seg_ids) > max_length:
                skipped += 1
                continue
            if len(ids) + len(seg_ids) > max_length:
                packed.append(Packed(ids, labels, positions, segments))
                ids, labels, positions, segments = _start(prefix_ids)
                n_segments = 0
            n_segments += 1
            ids += seg_ids
            labels += seg_labels
            positions += range(len(prefix_ids), len(prefix_ids) + len(seg_ids))
            segments += [n_segments] * len(seg_ids)
        if n_segments:
            packed.append(Packed(ids, labels, positions, segments))
    rng.shuffle(packed)
    return packed, skipped


def _start(prefix_ids: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    n = len(prefix_ids)
    return list(prefix_ids), [IGNORE] * n, list(range(n)), [0] * n


def collate(batch: Sequence[dict[str, list[int]]], pad_id: int) -> dict[str, Any]:
    """Pad packed sequences into tensors; padding is segment -1 (and 0 in attention_mask)."""
    import torch

    width = max(len(b["input_ids"]) for b in batch)

    def pad(key: str, value: int) -> Any:
        return torch.tensor([b[key] + [value] * (width - len(b[key])) for b in batch])

    segment_ids = pad("segment_ids", -1)
    return {
        "input_ids": pad("input_ids", pad_id),
        "labels": pad("labels", IGNORE),
        "position_ids": pad("position_ids", 0),
        "segment_ids": segment_ids,
        "attention_mask": (segment_ids >= 0).long(),  # padding only; the Trainer counts tokens
    }


def completion_loss(model: Any, inputs: dict[str, Any], reduction: str = "mean") -> Any:
    """Cross-entropy on labelled tokens, computing logits only at the positions that need them.

    The model must use segment attention (`attention.use_segment_attention`): any other
    attention would let segments see each other.
    """
    import torch.nn.functional as F

    from smolsql.train.attention import NAME, layouts

    if model.config._attn_implementation != NAME:
        raise SmolsqlError("packed sequences need segment attention: use_segment_attention(model)")
    labels = inputs["labels"]
    keep = labels.new_zeros(labels.shape, dtype=bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE
    outputs = model(
        input_ids=inputs["input_ids"],
        position_ids=inputs["position_ids"],
        segment_layouts=layouts(inputs["segment_ids"]),
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = outputs.logits.reshape(-1, outputs.logits.shape[-1])
    targets = labels[:, 1:][keep[:, :-1]]
    return F.cross_entropy(logits.float(), targets, reduction=reduction)
