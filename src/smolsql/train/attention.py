"""Segment attention: the block attention of prefix packing, without computing what it masks.

A packed sequence is [prefix | segment 1 | ... | segment n | padding], and a segment
may see only the prefix and itself. A block mask over the whole sequence, handed to a
stock kernel, is correct but makes it compute all L x L scores, most of them masked
out when a sequence holds dozens of segments. Here attention is split in two blocks
whose softmaxes are merged through their log-sum-exps, the way blockwise (flash)
attention merges tiles:
  - prefix keys: every token of the row against the prefix keys, causal from the top
    left, so prefix tokens see the prefix before them and segment tokens all of it; on
    a CPU this is one call to torch's fused flash kernel, which never stores the scores;
  - own keys: each segment token against its own segment, small batched matmuls over
    segments of similar length (`Group`).
The backward pass is written out (`_SegmentRows`): the flash kernel's own backward,
given the merged output and log-sum-exp, yields exactly the prefix block's gradients,
and the small block's are a few matmuls. Nothing L x L or (segment tokens x prefix) is
stored for backward, and no autograd scatter-add runs per gather.

Used by prefix-packed training on every device (off the CPU, the prefix block is the
same arithmetic in plain matmuls); when a call carries no layout (say, generating with
the trained model object) it is plain sdpa attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from smolsql.errors import SmolsqlError

NAME = "smolsql_segments"
FLASH_DEVICES = ("cpu",)  # where torch has a fused kernel that returns the log-sum-exp


@dataclass(frozen=True)
class Group:
    """Segments of similar length, each padded at its end to the group's longest.

    Padding at the end keeps causal attention within a padded segment exact for its real
    tokens without a mask; grouping by length keeps the padding (and the work spent on it)
    small when one long SQL query shares a row with many short ones.
    """

    index: Any  # (n, s) long: row position of each segment token, padded with 0
    valid: Any  # (n, s) bool: False where `index` is padding

    @property
    def positions(self) -> Any:
        """The row positions of the group's tokens, padding dropped."""
        return self.index[self.valid]

    def gather(self, *tensors: Any, rows_only: bool = False) -> list[Any]:
        """Each (heads, used, d) tensor as (heads, segments, s, d); with rows_only, padding
        rows are neutral for a backward pass: zero gradient, infinite log-sum-exp."""
        n, s = self.index.shape
        flat = self.index.reshape(-1)
        out = []
        for i, x in enumerate(tensors):
            x = x.index_select(1, flat).view(x.shape[0], n, s, -1)
            if rows_only:
                pad = float("inf") if i == len(tensors) - 1 else 0.0
                x = x.masked_fill_(~self.valid[None, :, :, None], pad)
            out.append(x)
        return out

    def scatter(self, x: Any) -> Any:
        """(heads, segments, s[, d]) back to (heads, tokens[, d]), in `positions` order."""
        return x[:, self.valid]


@dataclass(frozen=True)
class Layout:
    """Where one row's segments are: prefix length, segment groups, full length."""

    prefix: int
    tokens: int  # segment tokens; they follow the prefix, padding follows them
    groups: tuple[Group, ...]
    length: int  # the row's full length, padding included

    @property
    def used(self) -> int:
        return self.prefix + self.tokens


def layouts(segment_ids: Any) -> list[Layout]:
    """One layout per row of a (batch, length) segment-id tensor (0 prefix, -1 padding)."""
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
        tokens = sum(end - start for start, end in spans)
        groups = tuple(_group(part, segment_ids.device) for part in _by_length(spans))
        rows.append(Layout(prefix, tokens, groups, len(seg)))
    return rows


def _by_length(spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Spans sorted by length, cut wherever a span is over twice the shortest of its group."""
    parts: list[list[tuple[int, int]]] = []
    for span in sorted(spans, key=lambda sp: sp[1] - sp[0]):
        if not parts or span[1] - span[0] > 2 * (parts[-1][0][1] - parts[-1][0][0]):
            parts.append([])
        parts[-1].append(span)
    return parts


def _group(spans: list[tuple[int, int]], device: Any) -> Group:
    width = max(end - start for start, end in spans)
    index = torch.zeros(len(spans), width, dtype=torch.long)
    valid = torch.zeros(len(spans), width, dtype=torch.bool)
    for i, (start, end) in enumerate(spans):
        index[i, : end - start] = torch.arange(start, end)
        valid[i, : end - start] = True
    return Group(index.to(device), valid.to(device))


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
    if dropout:
        raise SmolsqlError("segment attention has no attention dropout; set it to 0")
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    device = query.device.type
    if torch.is_autocast_enabled(device):  # the matmuls' dtype, as sdpa would run them
        dtype = torch.get_autocast_dtype(device)
        query, key, value = query.to(dtype), key.to(dtype), value.to(dtype)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    rows = [
        _SegmentRows.apply(query[b], key[b], value[b], layout, scale)
        for b, layout in enumerate(segment_layouts)
    ]
    return torch.stack(rows).transpose(1, 2).contiguous(), None


class _SegmentRows(torch.autograd.Function):
    """One packed row, (heads, length, head_dim) in and out; padding rows come out zero."""

    @staticmethod
    def forward(ctx: Any, q: Any, k: Any, v: Any, layout: Layout, scale: float) -> Any:
        p, used = layout.prefix, layout.used
        q, k, v = (x[:, :used].contiguous() for x in (q, k, v))
        out, lse = _attend(q[None], k[None, :, :p], v[None, :, :p], scale, fused=True)
        out, lse = out[0], lse[0]
        if used > p:
            own_out, own_lse = out.new_empty(out[:, p:].shape), lse.new_empty(lse[:, p:].shape)
            for group in layout.groups:
                part_out, part_lse = _attend(*group.gather(q, k, v), scale, fused=False)
                own_out.index_copy_(1, group.positions - p, group.scatter(part_out))
                own_lse.index_copy_(1, group.positions - p, group.scatter(part_lse))
            lse_p = lse[:, p:]
            merged = torch.logaddexp(lse_p, own_lse)
            out[:, p:] = (
                out[:, p:].float() * (lse_p - merged).exp()[..., None]
                + own_out.float() * (own_lse - merged).exp()[..., None]
            ).to(out.dtype)
            lse[:, p:] = merged
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.layout, ctx.scale = layout, scale
        return _pad(out, layout.length)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, ...]:
        q, k, v, out, lse = ctx.saved_tensors
        layout, scale = ctx.layout, ctx.scale
        p, used = layout.prefix, layout.used
        grad = grad[:, :used].to(out.dtype).contiguous()
        prefix_kv = (k[None, :, :p], v[None, :, :p])
        dq, dk_p, dv_p = (
            x[0]
            for x in _attend_backward(
                grad[None], q[None], *prefix_kv, out[None], lse[None], scale, fused=True
            )
        )
        dk, dv = torch.zeros_like(k), torch.zeros_like(v)
        dk[:, :p], dv[:, :p] = dk_p, dv_p
        for group in layout.groups:
            g, o, row_lse = group.gather(grad, out, lse[..., None], rows_only=True)
            qkv = group.gather(q, k, v)
            grads = _attend_backward(g, *qkv, o, row_lse[..., 0], scale, fused=False)
            for total, part in zip((dq, dk, dv), grads, strict=True):
                total.index_add_(1, group.positions, group.scatter(part))
        length = layout.length
        return _pad(dq, length), _pad(dk, length), _pad(dv, length), None, None


def _pad(x: Any, length: int) -> Any:
    """(heads, used, dim) to (heads, length, dim), zeros after."""
    if x.shape[1] == length:
        return x
    return torch.cat([x, x.new_zeros(x.shape[0], length - x.shape[1], x.shape[2])], dim=1)


def _attend(q: Any, k: Any, v: Any, scale: float, fused: bool) -> tuple[Any, Any]:
    """(batch, heads, queries, d) attention, causal from the top left: (out, log-sum-exp).

    Query i sees keys 0..i: against the prefix keys, prefix queries are causal and later
    queries see the whole prefix. Log-sum-exps are fp32 and natural-log, as the CPU flash
    kernel returns them; off the CPU the same arithmetic runs in plain matmuls.
    """
    if fused and q.device.type in FLASH_DEVICES:
        return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            q, k, v, 0.0, True, scale=scale
        )
    scores = _scores(q, k, scale)
    lse = torch.logsumexp(scores, dim=-1)
    return (scores - lse[..., None]).exp().to(v.dtype) @ v, lse


def _attend_backward(
    grad: Any, q: Any, k: Any, v: Any, out: Any, lse: Any, scale: float, fused: bool
) -> tuple[Any, Any, Any]:
    """dq, dk, dv of `_attend`, given the output and log-sum-exp of the whole softmax.

    Passing the merged output and log-sum-exp of both blocks makes this one block's share
    of the gradient exact, which is what lets the two blocks be computed apart.
    """
    if fused and q.device.type in FLASH_DEVICES:
        return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward(
            grad, q, k, v, out, lse, 0.0, True, scale=scale
        )
    probs = (_scores(q, k, scale) - lse[..., None]).exp()
    rowdot = (grad.float() * out.float()).sum(-1, keepdim=True)
    d_scores = (probs * ((grad @ v.transpose(-1, -2)).float() - rowdot)).to(q.dtype)
    dq = (d_scores @ k) * scale
    dk = (d_scores.transpose(-1, -2) @ q) * scale
    dv = probs.to(v.dtype).transpose(-1, -2) @ grad
    return dq, dk, dv


def _scores(q: Any, k: Any, scale: float) -> Any:
    scores = (q @ k.transpose(-1, -2)).float() * scale
    hidden = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(hidden, float("-inf"))


def use_segment_attention(model: Any) -> None:
    """Register the attention function and switch the model (and its wrappers) to it."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, segment_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    model.config._attn_implementation = NAME
