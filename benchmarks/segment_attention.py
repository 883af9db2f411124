"""Segment attention against two stock-kernel ways of computing the same thing, per layer.

One packed row (a schema prefix of P tokens, then n segments of s tokens), one layer's
attention, forward and backward, in bf16 autocast as training runs it, each way:
  segment     smolsql's (`train/attention.py`): the prefix causally with the flash kernel,
              segment tokens against the prefix keys in one matmul and their own keys
              in a small batched one, one softmax;
  sdpa-mask   the prefix as above, then every segment token in one SDPA call over the
              row's keys with a boolean mask (prefix and its own segment);
  sdpa-batch  the prefix as above, then one SDPA call batched over segments, each with
              the prefix keys copied in front of its own.
All three give the same output (to bf16 rounding, checked). Times are the best of 3.

Run: .venv/bin/python benchmarks/segment_attention.py [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from smolsql.train.attention import _row, layouts
from smolsql.train.precision import cpu_model

HEADS, DIM = 9, 64  # SmolLM2-135M's attention
SHAPES = [(1500, 40, 38), (400, 60, 40)]  # (prefix, segments, segment length): long, short schema


def _prefix(q, k, v, p):
    return F.scaled_dot_product_attention(
        q[None, :, :p], k[None, :, :p], v[None, :, :p], is_causal=True
    )[0]


def sdpa_mask(q, k, v, layout, segments):
    p = layout.prefix
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


def sdpa_batch(q, k, v, layout, segments):
    p, (n, s) = layout.prefix, layout.index.shape
    qs = q[:, layout.index].transpose(0, 1)
    ks = torch.cat([k[:, :p][None].expand(n, -1, -1, -1), k[:, layout.index].transpose(0, 1)], 2)
    vs = torch.cat([v[:, :p][None].expand(n, -1, -1, -1), v[:, layout.index].transpose(0, 1)], 2)
    causal = torch.ones(s, s, dtype=torch.bool).tril() & layout.valid[:, None, :]
    mask = torch.cat([torch.ones(n, s, p, dtype=torch.bool), causal], 2)[:, None]
    mask = mask | ~layout.valid[:, None, :, None]
    out = F.scaled_dot_product_attention(qs, ks, vs, attn_mask=mask)
    return torch.cat([_prefix(q, k, v, p), out.transpose(0, 1)[:, layout.valid]], 1)


def segment(q, k, v, layout, segments):
    return _row(q, k, v, layout, 0.0, None)


def timed(fn, *args) -> tuple[float, torch.Tensor]:
    best, out = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = fn(*args)
        out.float().sum().backward()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for p, n, s in SHAPES:
        segments = [0] * p + [i + 1 for i in range(n) for _ in range(s)]
        layout = layouts(torch.tensor([segments]))[0]
        q, k, v = (torch.randn(HEADS, len(segments), DIM, requires_grad=True) for _ in range(3))
        reference = None
        for name, fn in (
            ("segment", segment),
            ("sdpa-mask", sdpa_mask),
            ("sdpa-batch", sdpa_batch),
        ):
            seconds, out = timed(fn, q, k, v, layout, segments)
            reference = out if reference is None else reference
            diff = float((out.float() - reference.float()).abs().max().detach())
            rows.append({"prefix": p, "segments": n, "segment_tokens": s, "way": name,
                         "ms": round(seconds * 1000, 1), "max_diff": round(diff, 4)})  # fmt: skip
    print(f"CPU: {cpu_model()}, {torch.get_num_threads()} threads")
    print("| prefix | segments x tokens | way | ms (forward + backward, one layer) |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['prefix']} | {r['segments']} x {r['segment_tokens']} | {r['way']} | {r['ms']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_model(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
