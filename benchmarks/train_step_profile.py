"""Where one training step's time goes: torch's profiler over one packed Spider row.

Full fine-tuning of the offline SmolLM2-135M-Instruct in bf16 autocast, as
`configs/spider-full.yaml` trains it: picks the packed row (3,072 tokens at most) at a
given quantile of schema-prefix length, runs forward and backward once to warm up, then
once under the profiler, and prints the operators with the most time of their own and
each one's share. Quantile 0.1 is a short schema, 0.98 one of the longest.

Run: .venv/bin/python benchmarks/train_step_profile.py [--quantile 0.1] [--top 12]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
from torch.profiler import profile

from smolsql.data.loaders import load_spider
from smolsql.machine import cpu_model
from smolsql.train.attention import use_segment_attention
from smolsql.train.config import TrainConfig
from smolsql.train.packing import collate, completion_loss, pack_by_prefix
from smolsql.train.sft import load_for_training


def packed_row(
    spider: str, quantile: float, max_length: int, precision: str, full: bool = False
) -> tuple[Any, dict, Any]:
    """(model for full fine-tuning, collated batch, packed row) at a quantile of prefix length.

    `full` keeps only rows filled to within 10% of `max_length`, so that rows compare.
    """
    config = TrainConfig.build(
        {
            "model": "smollm2-135m-instruct-gguf",
            "data": "unused",
            "output_dir": "unused",
            "packing": "prefix",
            "max_length": max_length,
            "lora": False,
            "precision": precision,
        }
    )
    model, tokenizer = load_for_training(config)
    use_segment_attention(model)
    packed, _ = pack_by_prefix(
        load_spider(Path(spider) / "train.json"), tokenizer, max_length, seed=0
    )
    if full:
        packed = [p for p in packed if len(p.input_ids) > 0.9 * max_length]
    packed.sort(key=lambda p: p.segment_ids.count(0))
    row = packed[min(len(packed) - 1, int(quantile * len(packed)))]
    return model, collate([dict(row.__dict__)], tokenizer.pad_token_id), row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spider", default="../shared/data/spider")
    parser.add_argument("--quantile", type=float, default=0.1, help="of schema-prefix length")
    parser.add_argument("--max-length", type=int, default=3072)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    model, batch, row = packed_row(args.spider, args.quantile, args.max_length, "bf16")

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = completion_loss(model, batch)
        loss.backward()
        model.zero_grad()

    step()
    start = time.perf_counter()
    with profile() as prof:
        step()
    seconds = time.perf_counter() - start
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    print(f"CPU: {cpu_model()}, {torch.get_num_threads()} threads")
    print(
        f"row: {len(row.input_ids)} tokens, prefix {row.segment_ids.count(0)}, "
        f"{max(row.segment_ids)} segments; step {seconds:.2f} s under the profiler"
    )
    print("| operator | calls | seconds | share |")
    print("|---|---|---|---|")
    for e in events[: args.top]:
        share = e.self_cpu_time_total / total
        print(f"| {e.key} | {e.count} | {e.self_cpu_time_total / 1e6:.2f} | {share:.1%} |")


if __name__ == "__main__":
    main()
