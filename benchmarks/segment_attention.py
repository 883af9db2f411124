"""Segment attention against other ways of computing the same thing, one layer at a time.

One packed row (a schema prefix of P tokens, then n segments), one layer's attention
(SmolLM2-135M's 9 heads of 64), forward and backward in bf16 as training runs it, each way:
  merged      smolsql's (`train/attention.py`): every token against the prefix keys in
              one call to the fused flash kernel, each segment against itself in small
              batched matmuls, the two merged through their log-sum-exps, backward
              written out;
  gathered    smolsql's before it (kept here for the record): the prefix with the flash
              kernel, segment tokens against the prefix keys in one materialized matmul
              and against their own (all segments padded to the longest) in a batched
              one, one softmax, autograd for the backward;
  sdpa-mask   the prefix with the flash kernel, then every segment token in one SDPA call
              over the row's keys with a boolean mask.
All give the same output (to bf16 rounding, checked: max_diff). Times are the best of 3.
The last shape has one 150-token query among short ones, as Spider rows sometimes do.

Run: .venv/bin/python benchmarks/segment_attention.py [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from smolsql.machine import cpu_model
from smolsql.train.attention import _SegmentRows, layouts

HEADS, DIM = 9, 64  # SmolLM2-135M's attention
# (prefix, segment lengths): a long schema, a short one, a short one with one long query
SHAPES = [
    (1500, [38] * 40),
    (400, [40] * 60),
    (120, [30 + i % 20 for i in range(70)] + [150]),
]


def _prefix(q, k, v, p):
    return F.scaled_dot_product_attention(
        q[None, :, :p], k[None, :, :p], v[None, :, :p], is_causal=True
    )[0]


def merged(q, k, v, segments):
    (layout,) = layouts(torch.tensor([segments]))
    return _SegmentRows.apply(q, k, v, layout, DIM**-0.5)


def gathered(q, k, v, segments):
    p = segments.count(0)
    spans = [[i for i, s in enumerate(segments) if s == n] for n in range(1, max(segments) + 1)]
    width = max(len(span) for span in spans)
    index = torch.tensor([span + [0] * (width - len(span)) for span in spans])
    valid = torch.tensor([[True] * len(span) + [False] * (width - len(span)) for span in spans])
    n, s = index.shape
    tokens = int(valid.sum())
    scale = DIM**-0.5
    q_seg = q[:, p : p + tokens] * scale
    to_prefix = q_seg @ k[:, :p].transpose(1, 2)
    own_k, own_v, own_q = k[:, index], v[:, index], q[:, index] * scale
    causal = torch.ones(s, s, dtype=torch.bool).tril()
    own = (own_q @ own_k.transpose(2, 3)).masked_fill(~(causal & valid[:, None, :]), -torch.inf)
    probs = torch.softmax(torch.cat([to_prefix, own[:, valid]], dim=-1), dim=-1)
    padded = probs.new_zeros(q.shape[0], n, s, s)
    padded[:, valid] = probs[..., p:]
    out = probs[..., :p] @ v[:, :p] + (padded @ own_v)[:, valid]
    return torch.cat([_prefix(q, k, v, p), out], dim=1)


def sdpa_mask(q, k, v, segments):
    p = segments.count(0)
    ids = torch.tensor(segments)
    length = len(segments)
    own = (ids[p:, None] == ids[None, :]) & (
        torch.arange(length)[None, :] <= torch.arange(p, length)[:, None]
    )
    mask = own | (ids[None, :] == 0)
    rest = F.scaled_dot_product_attention(
        q[None, :, p:], k[None], v[None], attn_mask=mask[None, None]
    )[0]
    return torch.cat([_prefix(q, k, v, p), rest], 1)


WAYS = {"merged": merged, "gathered": gathered, "sdpa-mask": sdpa_mask}


def timed(fn, q, k, v, segments) -> tuple[float, torch.Tensor]:
    best, out = float("inf"), None
    for _ in range(3):
        for x in (q, k, v):
            x.grad = None
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = fn(q.bfloat16(), k.bfloat16(), v.bfloat16(), segments)
        out.float().sum().backward()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for p, lengths in SHAPES:
        segments = [0] * p + [i + 1 for i, n in enumerate(lengths) for _ in range(n)]
        q, k, v = (torch.randn(HEADS, len(segments), DIM, requires_grad=True) for _ in range(3))
        reference = None
        for name, fn in WAYS.items():
            seconds, out = timed(fn, q, k, v, segments)
            reference = out if reference is None else reference
            diff = float((out.float() - reference.float()).abs().max().detach())
            rows.append(
                {
                    "prefix": p,
                    "segments": len(lengths),
                    "longest": max(lengths),
                    "tokens": sum(lengths),
                    "way": name,
                    "ms": round(seconds * 1000, 1),
                    "max_diff": round(diff, 4),
                }
            )
    print(f"CPU: {cpu_model()}, {torch.get_num_threads()} threads")
    print("| prefix | segments (tokens, longest) | way | ms (forward + backward, one layer) |")
    print("|---|---|---|---|")
    for r in rows:
        shape = f"{r['segments']} ({r['tokens']}, {r['longest']})"
        print(f"| {r['prefix']} | {shape} | {r['way']} | {r['ms']} |")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_model(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
