"""What one llama.cpp decode step costs, and whether prompt-lookup drafts pay for themselves.

Part 1: milliseconds to decode a batch of 1, 2, 4 and 8 tokens after a Spider prompt, per GGUF
type (verifying k draft tokens costs one decode of k + 1). Part 2: mean seconds per question
over every 16th Spider dev question with `lookahead` 0, 2, 3 and 4 draft tokens, the share of
drafts kept, how many outputs differ from plain greedy decoding, and the mean answer length.
Run: .venv/bin/python benchmarks/decode_step.py [--types f16,q8_0,q4_k_m] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from smolsql.backends import GenerationSettings
from smolsql.backends.gguf import gguf_file
from smolsql.backends.llamacpp import LlamaCppBackend
from smolsql.data.loaders import load_spider
from smolsql.models import resolve_model
from smolsql.prompt import example_prompt

DEV = "../shared/data/spider/dev.json"


def step_ms(backend: LlamaCppBackend, prompt: str, size: int, repeats: int = 20) -> float:
    import llama_cpp

    tokens = backend._tokens(prompt)
    backend._feed(tokens)
    n_past = len(tokens)
    start = time.perf_counter()
    for _ in range(repeats):
        backend._decode([(100, n_past + i, 0, True) for i in range(size)])
        llama_cpp.llama_memory_seq_rm(backend._memory, 0, n_past, -1)
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", default="f16,q8_0,q4_k_m")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()
    spec = resolve_model(None)
    prompts = [example_prompt(e) for e in load_spider(DEV)[::16]]
    settings = GenerationSettings(max_new_tokens=128)
    report: dict = {"step_ms": {}, "lookahead": []}
    for outtype in args.types.split(","):
        backend = LlamaCppBackend(gguf_file(spec, outtype), settings=settings)
        report["step_ms"][outtype] = {
            k: round(step_ms(backend, prompts[0], k), 1) for k in (1, 2, 4, 8)
        }
        print(f"{outtype}: ms per decode of 1/2/4/8 tokens: {report['step_ms'][outtype]}")
    backend = LlamaCppBackend(gguf_file(spec, args.types.split(",")[0]), settings=settings)
    backend.generate(prompts[:1])
    plain: list[str] = []
    for lookahead in (0, 2, 3, 4):
        backend.settings = replace(settings, lookahead=lookahead)
        backend.drafted = backend.accepted = 0
        start = time.perf_counter()
        outputs = [backend.generate([p])[0] for p in prompts]
        seconds = (time.perf_counter() - start) / len(prompts)
        plain = plain or outputs
        changed = sum(a != b for a, b in zip(outputs, plain, strict=True))
        mean_tokens = sum(backend.count_tokens(o) for o in outputs) / len(outputs)
        row = {
            "lookahead": lookahead,
            "s_per_question": round(seconds, 3),
            "drafts_kept": round(backend.accepted / max(backend.drafted, 1), 2),
            "outputs_changed": changed,
            "mean_tokens": round(mean_tokens, 1),
        }
        report["lookahead"].append(row)
        print(row)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
