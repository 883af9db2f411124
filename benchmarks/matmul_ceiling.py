"""The floor under an epoch's time: its linear layers' FLOPs at the CPU's measured matmul speed.

Times the matmuls one packed training row makes in SmolLM2-135M's linear layers (forward,
input gradient, weight gradient; 3,072 rows as `configs/spider-full.yaml` packs them), in
bf16 and fp32, and divides one epoch's linear-layer FLOPs by the speed measured: no
training schedule can run faster than that on this CPU, whatever attention, the loss or
the optimizer cost. The epoch's token counts come from `packing_stats.py`'s results.

Run: .venv/bin/python benchmarks/matmul_ceiling.py [--stats benchmarks/results/packing_stats.json]
     [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from smolsql.machine import cpu_model

# SmolLM2-135M: hidden 576, MLP 1536, 30 layers, 9 query and 3 key/value heads of 64
HIDDEN, MLP, LAYERS, KV, VOCAB = 576, 1536, 30, 192, 49152
LINEARS = [  # (in, out) of each linear layer in a block
    (HIDDEN, HIDDEN), (HIDDEN, KV), (HIDDEN, KV), (HIDDEN, HIDDEN),  # q, k, v, o
    (HIDDEN, MLP), (HIDDEN, MLP), (MLP, HIDDEN),  # gate, up, down
]  # fmt: skip
ROWS = 3072


def _best(a: torch.Tensor, b: torch.Tensor, repeat: int = 5) -> float:
    a @ b
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return best


def measure(dtype: torch.dtype) -> float:
    """GFLOP/s over one block's linear layers: forward, input and weight gradients."""
    flops = seconds = 0.0
    for n_in, n_out in LINEARS:
        x, w, dy = (
            torch.randn(*shape).to(dtype) for shape in ((ROWS, n_in), (n_out, n_in), (ROWS, n_out))
        )
        for a, b in ((x, w.t()), (dy, w), (dy.t(), x)):  # forward, input grad, weight grad
            seconds += _best(a, b)
            flops += 2 * ROWS * n_in * n_out
    return flops / seconds / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stats", type=Path, default=Path("benchmarks/results/packing_stats.json"))
    parser.add_argument("--max-length", type=int, default=ROWS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    stats = next(
        r for r in json.loads(args.stats.read_text()) if r.get("max_length") == args.max_length
    )
    per_token = LAYERS * sum(a * b for a, b in LINEARS)  # multiply-adds a token
    epoch = 6 * stats["tokens"] * per_token + 6 * stats["labelled_tokens"] * HIDDEN * VOCAB
    rows = []
    for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
        speed = measure(dtype)
        rows.append(
            {
                "precision": name,
                "gflops": round(speed, 1),
                "epoch_tflop": round(epoch / 1e12, 1),
                "floor_minutes": round(epoch / (speed * 1e9) / 60, 1),
            }
        )
    print(
        f"CPU: {cpu_model()}, {torch.get_num_threads()} threads; epoch: {stats['tokens']:,} "
        f"tokens, {stats['labelled_tokens']:,} labelled"
    )
    print("| precision | matmul GFLOP/s | epoch linear TFLOP | floor, minutes |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['gflops']} | {r['epoch_tflop']} | {r['floor_minutes']} |")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_model(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
