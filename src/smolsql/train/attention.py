"""Segment attention: the block attention of prefix packing, without computing what it masks.

A packed sequence is [prefix | segment 1 | ... | segment n | padding], and a segment
may see only the prefix and itself. A block mask over the whole sequence, handed to a
stock kernel, is correct but makes it compute all L x L scores, most of them masked
out when a sequence holds dozens of segments. Here the prefix attends causally to
itself (the flash kernel), then every segment token is scored against the prefix keys
(one matmul) and against its own segment's keys (a small batched matmul), with one
softmax over both: P^2/2 + T*(P+s) scores instead of L^2, for T segment tokens and
segments of at most s tokens.

Used by prefix-packed training on every device; when a call carries no layout (say,
generating with the trained model object) it is plain sdpa attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAME = "smolsql_segments"


@dataclass(frozen=True)
class Layout:
    """Where one row's segments are: prefix length, and each segment's token positions."""

    prefix: int
    index: Any  # (n, s) long: position of each segment token, padded with 0
    valid: Any  # (n, s) bool: False where `index` is padding
    length: int  # the row's full length, padding included


def layouts(segment_ids: Any) -> list[Layout]:
    """One layout per row of a (batch, length) segment-id tensor (0 prefix, -1 padding)."""
    import torch

    rows = []
    for seg in segment_ids.tolist():
        prefix = seg.count(0)
        spans: list[tuple[int, int]] = []
        for pos in range(prefix, len(seg)):
            if seg[pos] < 0:
                break
            if pos == prefix or seg[pos] != seg[pos - 1]:
                spans.append((pos, pos))
            spans[-1] = (spans[-1][0], pos + 1)
        width = max((end - start for start, end in spans), default=0)
        index = torch.zeros(len(spans), width, dtype=torch.long)
        valid = torch.zeros(len(spans), width, dtype=torch.bool)
        for i, (start, end) in enumerate(spans):
            index[i, : end - start] = torch.arange(start, end)
            valid[i, : end - start] = True
        device = segment_ids.device
        rows.append(Layout(prefix, index.to(device), valid.to(device), len(seg)))
    return rows


def segment_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    segment_layouts: list[Layout] | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """transformers attention function; returns (batch, length, heads, head_dim) like sdpa's."""
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    if segment_layouts is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    import torch

    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    rows = [
        _row(query[b], key[b], value[b], layout, dropout, scaling)
        for b, layout in enumerate(segment_layouts)
    ]
    return torch.stack(rows).transpose(1, 2).contiguous(), None


def _row(q: Any, k: Any, v: Any, layout: Layout, dropout: float, scale: float | None) -> Any:
    """(heads, length, dim) output of one packed row.

    Segment tokens' scores against the prefix are one matmul with the prefix keys as
    they are (no copy per segment); scores within a segment are a small batched
    matmul; one softmax over both. Saved for backward: (heads, tokens, prefix + s).
    """
    import torch
    import torch.nn.functional as F

    p = layout.prefix
    prefix_out = F.scaled_dot_product_attention(  # 4-D: CPU's flash kernel takes no 3-D input
        q[None, :, :p], k[None, :, :p], v[None, :, :p], dropout_p=dropout, is_causal=True,
        scale=scale,
    )  # fmt: skip
    parts = [prefix_out[0]]
    n, s = layout.index.shape
    tokens = int(layout.valid.sum())
    if tokens:
        scale = scale if scale is not None else q.shape[-1] ** -0.5
        q_seg = q[:, p : p + tokens] * scale  # segments follow the prefix, in order
        to_prefix = q_seg @ k[:, :p].transpose(1, 2)  # (heads, tokens, p)
        own_k, own_v = k[:, layout.index], v[:, layout.index]  # (heads, n, s, dim)
        own_q = q[:, layout.index] * scale  # padding rows are dropped by `valid` below
        causal = torch.ones(s, s, dtype=torch.bool, device=q.device).tril()
        own = (own_q @ own_k.transpose(2, 3)).masked_fill(
            ~(causal & layout.valid[:, None, :]), float("-inf")
        )[:, layout.valid]  # (heads, tokens, s)
        probs = torch.softmax(torch.cat([to_prefix, own], dim=-1), dim=-1)
        probs = F.dropout(probs, dropout) if dropout else probs
        padded_probs = probs.new_zeros(q.shape[0], n, s, s)
        padded_probs[:, layout.valid] = probs[..., p:]
        out = probs[..., :p] @ v[:, :p] + (padded_probs @ own_v)[:, layout.valid]
        parts.append(out)
    used = p + tokens
    if used < layout.length:  # padding: zeros, it carries no loss
        parts.append(q.new_zeros(q.shape[0], layout.length - used, q.shape[-1]))
    return torch.cat(parts, dim=1)


def use_segment_attention(model: Any) -> None:
    """Register the attention function and switch the model (and its wrappers) to it."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, segment_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    model.config._attn_implementation = NAME
