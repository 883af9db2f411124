"""bf16 weights (fp32 master copies in the optimizer) against bf16 autocast over fp32 weights.

Under autocast the model's weights, residual stream and norms stay fp32, and every linear
layer casts its weight and its input to bf16 on each pass; with the weights themselves in
bf16 nothing is cast. This times one packed Spider row's forward and backward both ways,
full fine-tuning, alternating the two for several rounds on the same row so that a busy
host slows both alike; the minimum of each is the figure. What won here did not carry
into the Trainer (tried in commit 8e0d849; docs/measurements.md).

Run: .venv/bin/python benchmarks/bf16_weights.py [--quantile 0.1] [--rounds 5] [--json F]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch
from train_step_profile import packed_row  # this folder's; scripts run from here

from smolsql.machine import cpu_model
from smolsql.train.packing import completion_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spider", default="../shared/data/spider")
    parser.add_argument("--quantile", type=float, default=0.1, help="of schema-prefix length")
    parser.add_argument("--max-length", type=int, default=3072)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    model, batch, row = packed_row(
        args.spider, args.quantile, args.max_length, "fp32", full=True
    )  # fp32 weights for autocast; the bf16 copy is made below
    variants = {
        "bf16 autocast, fp32 weights": (model, True),
        "bf16 weights, no autocast": (copy.deepcopy(model).to(torch.bfloat16), False),
    }

    def step(m: torch.nn.Module, autocast: bool) -> tuple[float, float]:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = completion_loss(m, batch)
        loss.backward()
        m.zero_grad()
        return time.perf_counter() - start, loss.item()

    times: dict[str, list[float]] = {name: [] for name in variants}
    losses: dict[str, float] = {}
    for _ in range(args.rounds + 1):  # the first round warms up and is not counted
        for name, (m, autocast) in variants.items():
            seconds, losses[name] = step(m, autocast)
            times[name].append(seconds)
    tokens = len(row.input_ids)
    results = [
        {
            "variant": name,
            "cpu": cpu_model(),
            "threads": torch.get_num_threads(),
            "tokens": tokens,
            "prefix": row.segment_ids.count(0),
            "seconds_min": round(min(t[1:]), 2),
            "seconds_median": round(statistics.median(t[1:]), 2),
            "loss": round(losses[name], 4),
            "tokens_per_s": round(tokens / min(t[1:]), 1),
        }
        for name, t in times.items()
    ]
    print(f"CPU: {cpu_model()}, {torch.get_num_threads()} threads; row of {tokens} tokens")
    print("| variant | step s, min | step s, median | loss | tokens/s |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['variant']} | {r['seconds_min']} | {r['seconds_median']} | {r['loss']} | "
            f"{r['tokens_per_s']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
