"""Tokens one epoch of Spider train runs through the model, unpacked and packed.

No training: tokenizes the training split of a preset (its held-out share removed) and
counts, for each max_length, the packed sequences, all their tokens, the schema-prefix
tokens (repeated once per sequence) and the labelled SQL tokens.

Run: .venv/bin/python benchmarks/packing_stats.py [--config configs/spider-lora.yaml]
     [--lengths 2048,3072,4096] [--solved-examples N] [--linked-prompts SHARE]
     [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from smolsql.models import load_tokenizer, resolve_model
from smolsql.prompt import build_completion, example_prompt
from smolsql.train.config import resolve
from smolsql.train.packing import IGNORE, pack_by_prefix
from smolsql.train.sft import split_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="configs/spider-lora.yaml")
    parser.add_argument("--lengths", default="2048,3072,4096")
    parser.add_argument(
        "--solved-examples", type=int, help="override the preset's solved_examples (0..N each)"
    )
    parser.add_argument(
        "--linked-prompts", type=float, help="override the preset's linked_prompts (a share)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    overrides = {
        name: value
        for name, value in (
            ("solved_examples", args.solved_examples),
            ("linked_prompts", args.linked_prompts),
        )
        if value is not None
    }
    config = resolve(args.config, overrides)
    tokenizer = load_tokenizer(resolve_model(config.model))
    train, _ = split_examples(config)
    unpacked = sum(
        len(tokenizer(example_prompt(e) + build_completion(e.sql or ""))["input_ids"])
        for e in train
    )
    results = [{"packing": "none", "examples": len(train), "tokens": unpacked}]
    for length in (int(x) for x in args.lengths.split(",")):
        packed, skipped = pack_by_prefix(train, tokenizer, length, config.seed)
        results.append(
            {
                "packing": "prefix",
                "max_length": length,
                "examples": len(train) - skipped,
                "sequences": len(packed),
                "tokens": sum(len(p.input_ids) for p in packed),
                "prefix_tokens": sum(p.segment_ids.count(0) for p in packed),
                "labelled_tokens": sum(sum(x != IGNORE for x in p.labels) for p in packed),
            }
        )
    for r in results:
        print(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
