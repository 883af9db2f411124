"""Choosing among K candidates on Spider validation: accuracy, oracle, latency and memory per K.

For each K (one fresh process each, so peak RSS is its own): every question is asked
one at a time, in file order (grouped by database, as a person asks), the way
`smolsql ask --candidates K` answers it: the greedy answer, and when it does not
run and return rows, K-1 samples decoded in parallel, each run read-only, the
best chosen. The predictions are then scored: execution accuracy of the chosen
answer, of the greedy answer, and the oracle (any candidate right), with the
official column-order rule and with strict columns. `--pair` times, on every 8th
question, one greedy answer against its K-1 samples in one batch and one after another.

Run: .venv/bin/python benchmarks/candidates.py --ks 1,4,8,16 --out benchmarks/results/candidates
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

DEV = "../shared/data/spider/dev.json"


def settings(args: argparse.Namespace):
    from smolsql.backends import GenerationSettings

    return GenerationSettings(
        max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p
    )


def examples(args: argparse.Namespace) -> list:
    from smolsql.data.loaders import load_spider

    return load_spider(args.data, value_hints=args.value_hints)[:: args.every][: args.limit]


def worker(k: int, args: argparse.Namespace, out: Path) -> dict:
    from smolsql.backends import load_backend
    from smolsql.choose import ChoiceSettings
    from smolsql.predict import predict
    from smolsql.records import write_jsonl

    backend = load_backend(None, "llamacpp", settings(args))
    questions = examples(args)
    choice = ChoiceSettings(k)
    predict(backend, questions[:1], choice)  # warm-up: the first call's allocations
    predictions, latencies = [], []
    for example in questions:
        start = time.perf_counter()
        predictions.extend(predict(backend, [example], choice))
        latencies.append(time.perf_counter() - start)
    write_jsonl(out / "predictions.jsonl", predictions)
    sampled = sum(len(p.candidates) > 1 for p in predictions)
    return {
        "k": k,
        "questions": len(questions),
        "sampled": sampled,
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(statistics.quantiles(latencies, n=20)[-1], 3),
        "mean_s": round(statistics.fmean(latencies), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def accuracy(out: Path) -> dict:
    from smolsql.evaluate.metrics import score, summarize
    from smolsql.records import Prediction, read_jsonl

    predictions = list(read_jsonl(out / "predictions.jsonl", Prediction))
    row: dict = {}
    for strict in (False, True):
        summary = summarize([score(p, strict_columns=strict) for p in predictions], by=())
        suffix = "_strict" if strict else ""
        row["execution_accuracy" + suffix] = summary["execution_accuracy"]
        row["greedy" + suffix] = summary.get(
            "greedy_execution_accuracy", summary["execution_accuracy"]
        )
        row["oracle" + suffix] = summary.get(
            "oracle_execution_accuracy", summary["execution_accuracy"]
        )
    return row


def pair(args: argparse.Namespace, k: int) -> dict:
    """Greedy alone vs k-1 samples in one batch vs k-1 samples one after another."""
    from smolsql.backends import load_backend
    from smolsql.choose import _sample_limit
    from smolsql.prompt import example_prompt

    backend = load_backend(None, "llamacpp", settings(args))
    every_8th = argparse.Namespace(**{**vars(args), "every": 8, "limit": None})
    prompts = [example_prompt(e) for e in examples(every_8th)]
    backend.generate(prompts[:1])
    rows = []
    for prompt in prompts:
        backend.generate([prompt])  # the prompt computed, as after the greedy answer
        start = time.perf_counter()
        text = backend.generate([prompt])[0]
        greedy = time.perf_counter() - start
        limit = _sample_limit(backend, text)  # as the choosing stage caps samples
        start = time.perf_counter()
        backend.sample([prompt], k - 1, limit)
        batched = time.perf_counter() - start
        start = time.perf_counter()
        for seed in range(k - 1):
            backend.settings = replace(backend.settings, seed=seed)
            backend.sample([prompt], 1, limit)
        serial = time.perf_counter() - start
        rows.append((greedy, batched, serial))
    g, b, s = (statistics.median(r[i] for r in rows) for i in range(3))
    return {
        "k": k,
        "questions": len(rows),
        "greedy_s": round(g, 3),
        f"{k - 1}_samples_one_batch_s": round(b, 3),
        f"{k - 1}_samples_one_by_one_s": round(s, 3),
        "k_candidates_vs_greedy": round((g + b) / g, 2),
        "batch_vs_one_by_one": round(s / b, 2),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| K | execution accuracy | greedy | oracle (any candidate right) | strict columns: "
        "chosen / greedy | questions sampled | p50 s | p95 s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['k']} | {r['execution_accuracy']:.1%} | {r['greedy']:.1%} | {r['oracle']:.1%} "
            f"| {r['execution_accuracy_strict']:.1%} / {r['greedy_strict']:.1%} | "
            f"{r['sampled']} of {r['questions']} | {r['p50_s']} | {r['p95_s']} | "
            f"{r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="1,4,8,16", help="candidate counts to measure")
    parser.add_argument("--data", default=DEV)
    parser.add_argument("--every", type=int, default=1, help="every Nth question")
    parser.add_argument("--limit", type=int, help="at most N questions")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--pair", type=int, metavar="K", help="time K candidates against greedy")
    parser.add_argument("--out", default="runs/candidates", help="folder for runs and results")
    parser.add_argument(
        "--value-hints", action="store_true", help="the values each question names, in its prompt"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = Path(args.out)
    if args.worker:
        run = out / f"k{args.worker}"
        run.mkdir(parents=True, exist_ok=True)
        (run / "latency.json").write_text(json.dumps(worker(args.worker, args, run)))
        return
    if args.pair:
        result = pair(args, args.pair)
        print(json.dumps(result, indent=2))
        out.mkdir(parents=True, exist_ok=True)
        (out / f"pair_k{args.pair}.json").write_text(json.dumps(result, indent=2) + "\n")
        return
    rows = []
    flags = [
        "--data",
        args.data,
        "--every",
        str(args.every),
        "--temperature",
        str(args.temperature),
        "--top-p",
        str(args.top_p),
        "--max-new-tokens",
        str(args.max_new_tokens),
        "--out",
        str(out),
    ]
    if args.limit:
        flags += ["--limit", str(args.limit)]
    if args.value_hints:
        flags.append("--value-hints")
    for k in (int(k) for k in args.ks.split(",")):
        subprocess.run([sys.executable, __file__, "--worker", str(k), *flags], check=True)
        run = out / f"k{k}"
        row = json.loads((run / "latency.json").read_text()) | accuracy(run)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(table(rows))
    settings_line = {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "every": args.every,
        "limit": args.limit,
        "value_hints": args.value_hints,
    }
    (out / "candidates.json").write_text(
        json.dumps({"settings": settings_line, "rows": rows}, indent=2) + "\n"
    )
    (out / "candidates.md").write_text(table(rows) + "\n")


if __name__ == "__main__":
    main()
