"""Per-question latency, tokens/s, cold start and peak memory of each way to answer a question.

Variants, each in a fresh process so cold start and peak RSS are its own:
  pipeline       the original project's way: a transformers `pipeline` call per question
  transformers   smolsql's transformers backend, one question at a time
  llamacpp       the llama.cpp backend on the GGUF (F16 unless --gguf-type), no prefix cache
  llamacpp+cache the same with the schema prefix cache (questions on one database share it)
  NAME@TYPE      a llama.cpp variant on another GGUF type, e.g. llamacpp+cache@f16
Then batch throughput for evaluation: all questions in one `generate` call.

Questions are the first --n of Spider dev, in file order (grouped by database, as a person
asking several questions about one database would). The default model is used throughout.
Run: .venv/bin/python benchmarks/latency.py [--n 100] [--out benchmarks/results/latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
VARIANTS = ("pipeline", "transformers", "llamacpp", "llamacpp+cache")
DEV = "../shared/data/spider/dev.json"


def load_questions(n: int) -> list:
    from smolsql.data.loaders import load_spider

    return load_spider(DEV)[:n]


def make_generate(variant: str, max_new_tokens: int, gguf_type: str):
    """(generate(list of prompts) -> completions, count_tokens) for `variant`."""
    from smolsql.backends import GenerationSettings
    from smolsql.models import resolve_model

    spec = resolve_model(None)
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=16)
    if variant == "pipeline":
        from transformers import pipeline

        from smolsql.models import load_model, load_tokenizer

        tokenizer = load_tokenizer(spec)
        pipe = pipeline("text-generation", model=load_model(spec), tokenizer=tokenizer)

        def generate(prompts: list[str]) -> list[str]:
            return [
                pipe(p, max_new_tokens=max_new_tokens, do_sample=False, return_full_text=False)[0][
                    "generated_text"
                ]
                for p in prompts
            ]

        return generate, lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    if variant == "transformers":
        from smolsql.backends.transformers import TransformersBackend

        backend = TransformersBackend.from_spec(spec, settings)
    else:
        from smolsql.backends.llamacpp import LlamaCppBackend

        name, _, outtype = variant.partition("@")
        if name == "llamacpp":
            settings = GenerationSettings(max_new_tokens, batch_size=16, prefix_cache=0)
        backend = LlamaCppBackend.from_spec(spec, settings, outtype or gguf_type)
    return backend.generate, backend.count_tokens


def worker(variant: str, n: int, max_new_tokens: int, gguf_type: str, batch: bool) -> dict:
    from smolsql.prompt import example_prompt

    prompts = [example_prompt(e) for e in load_questions(n)]
    generate, count = make_generate(variant, max_new_tokens, gguf_type)
    cold = time.perf_counter() - T0
    generate([prompts[0]])  # warm-up: first-call allocations are not a question's latency
    result: dict = {"variant": variant, "cold_start_s": round(cold, 2), "questions": n}
    if batch:
        start = time.perf_counter()
        generate(prompts)
        result["batch_questions_per_s"] = round(n / (time.perf_counter() - start), 3)
    else:
        latencies, tokens, completions = [], 0, []
        for prompt in prompts:
            start = time.perf_counter()
            (completion,) = generate([prompt])
            latencies.append(time.perf_counter() - start)
            tokens += count(completion) + 1  # + the end-of-turn token
            completions.append(completion.strip())
        result |= {
            "completions": completions,
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(statistics.quantiles(latencies, n=20)[-1], 3),
            "tokens_per_s": round(tokens / sum(latencies), 1),
        }
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def run_child(variant: str, args: argparse.Namespace, batch: bool = False) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--worker",
            variant,
            "--n",
            str(args.n),
            "--max-new-tokens",
            str(args.max_new_tokens),
            "--gguf-type",
            args.gguf_type,
            "--child-out",
            out.name,
        ] + (["--batch"] if batch else [])
        subprocess.run(command, check=True)
        return json.loads(Path(out.name).read_text())


def table(rows: list[dict]) -> str:
    """One line per variant; speed-up against the first, same output against transformers."""
    base = rows[0]
    reference = next((r for r in rows if r["variant"] == "transformers"), base)["completions"]
    lines = [
        "| variant | p50 s | p95 s | tokens/s | cold start s | peak RSS MB | p50 speed-up "
        "| same output as transformers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        same = sum(a == b for a, b in zip(r["completions"], reference, strict=True))
        lines.append(
            f"| {r['variant']} | {r['p50_s']} | {r['p95_s']} | {r['tokens_per_s']} | "
            f"{r['cold_start_s']} | {r['peak_rss_mb']} | {base['p50_s'] / r['p50_s']:.1f}x "
            f"| {same}/{len(reference)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="questions from Spider dev")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--gguf-type", default="f16", help="for llama.cpp variants without @TYPE")
    parser.add_argument("--out", help="also write the results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        result = worker(args.worker, args.n, args.max_new_tokens, args.gguf_type, args.batch)
        Path(args.child_out).write_text(json.dumps(result))
        return
    variants = args.variants.split(",")
    rows = [run_child(v, args) for v in variants]
    throughput = {
        v: run_child(v, args, batch=True)["batch_questions_per_s"]
        for v in variants
        if v in ("transformers", "llamacpp+cache")  # evaluation's two candidates
    }
    print(table(rows))
    for variant, qps in throughput.items():
        print(f"batch throughput, {variant}: {qps} questions/s")
    if args.out:
        report = {"n": args.n, "gguf_type": args.gguf_type, "rows": rows, "batch": throughput}
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
