"""Training speed, before and after schema-prefix packing, on the same Spider examples.

Trains one pass over the questions of a few Spider databases twice, on the same
model with the same LoRA settings:
  (a) unpacked: TRL's SFTTrainer, prompt/completion pairs in padded batches;
  (b) packed: one schema prefix per sequence, segment attention (each segment
      against the prefix and itself), logits only where loss is taken (`packing: prefix`).
and, with --precision fp32,bf16, each in fp32 and in bf16 autocast (fp32 weights).
Reports wall time, examples/s, and tokens/s (tokens actually run through the model),
one table row per run, tokens/s last. Examples/s decides how long an epoch takes.

Run: .venv/bin/python benchmarks/train_throughput.py --spider ../shared/data/spider [--dbs 3]
     [--modes prefix] [--precision fp32,bf16] [--lora false] [--compile] [--lora-dropout 0.05]
     [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from smolsql.data.loaders import load_spider
from smolsql.machine import cpu_model
from smolsql.prompt import build_completion, example_prompt
from smolsql.train.config import TrainConfig, parse_bool
from smolsql.train.packing import pack_by_prefix
from smolsql.train.precision import resolve_precision
from smolsql.train.sft import build_trainer, load_for_training


def run(mode: str, precision: str, examples: list, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as out:
        batch = 1 if mode == "prefix" else args.batch_size
        config = TrainConfig.build(
            {
                "model": args.model,
                "data": "unused",
                "output_dir": out,
                "packing": mode,
                "max_length": args.max_length,
                "per_device_train_batch_size": batch,
                "gradient_accumulation_steps": 1,
                "num_train_epochs": 1,
                "logging_steps": 1000,
                "save_steps": 10**6,
                "eval_fraction": 0.0,
                "lora_dropout": args.lora_dropout,
                "lora": args.lora,
                "precision": precision,
                "checkpoint_dir": out,
                "torch_compile": args.compile,
            }
        )
        model, tokenizer = load_for_training(config)
        trainer = build_trainer(config, model, tokenizer, examples, [])
        if mode == "prefix":
            packed, _ = pack_by_prefix(examples, tokenizer, args.max_length, config.seed)
            tokens = sum(len(p.input_ids) for p in packed)
        else:
            tokens = sum(
                len(tokenizer(example_prompt(e) + build_completion(e.sql))["input_ids"])
                for e in examples
            )
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "precision": resolve_precision(precision),
        "lora": args.lora,
        "cpu": cpu_model(),
        "max_length": args.max_length,
        "lora_dropout": args.lora_dropout,
        "examples": len(examples),
        "tokens": tokens,
        "seconds": round(seconds, 1),
        "examples_per_s": round(len(examples) / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spider", default="../shared/data/spider")
    parser.add_argument("--dbs", type=int, default=3, help="databases whose questions to use")
    parser.add_argument("--model", default="smollm2-135m-instruct-gguf")
    parser.add_argument("--batch-size", type=int, default=8, help="unpacked batch size")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--lora-dropout", type=float, default=0.0)
    parser.add_argument("--modes", default="none,prefix", help="comma-separated: none, prefix")
    parser.add_argument("--precision", default="auto", help="comma-separated: auto, fp32, bf16")
    parser.add_argument("--lora", type=parse_bool, default=True, help="false: full fine-tuning")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    examples = load_spider(Path(args.spider) / "train.json")
    keep = {
        db for db, _ in Counter(e.meta["db_id"] for e in examples).most_common()[10:][: args.dbs]
    }
    subset = [e for e in examples if e.meta["db_id"] in keep]
    runs = [(m, p) for m in args.modes.split(",") for p in args.precision.split(",")]
    results = [run(mode, precision, subset, args) for mode, precision in runs]
    print(f"CPU: {cpu_model()}")
    print("| mode | training | precision | examples | tokens | seconds | examples/s | tokens/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['mode']} | {'LoRA' if r['lora'] else 'full'} | {r['precision']} | "
            f"{r['examples']} | {r['tokens']} | {r['seconds']} | {r['examples_per_s']} | "
            f"{r['tokens_per_s']} |"
        )
    if len(results) == 2:
        speedup = results[1]["tokens_per_s"] / results[0]["tokens_per_s"]
        print(f"the second is {speedup:.2f}x the first in tokens/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
