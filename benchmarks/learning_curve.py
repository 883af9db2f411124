"""The learning curve: does a database's answers get better as a person keeps checked ones?

Replays a person using smolsql on each validation database: the questions asked in file
order, and after each one its gold SQL kept, as a person who fixed the answer would keep
it. Each question is asked with what was kept before it on its database (the most similar
3 go in the prompt, as `ask` does with kept answers; an earlier question with the same
query counts, as it would for that person), with the default 8 candidates, through
`smolsql predict` and scored by `smolsql eval`. The same questions asked with nothing kept
come from a plain run of the same model (--plain, or one made here). Accuracy is then
grouped by how many answers were kept when the question was asked.
Run: .venv/bin/python benchmarks/learning_curve.py [--model M] [--plain RUN]
       --out benchmarks/results/learning-curve/NAME
     .venv/bin/python benchmarks/learning_curve.py --plot OUT/NAME [OUT/NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

DEV = "../shared/data/spider/dev.json"
BINS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 20), (21, 40), (41, 10_000))
"""Answers kept before the question: the curve's points."""


def replay_examples(data: str, k: int = 3) -> list:
    """Each question with the most similar of the gold answers kept before it on its database."""
    from smolsql.data.loaders import database_name, load_examples
    from smolsql.records import Solved
    from smolsql.solved import most_similar

    kept: dict[str, list[Solved]] = defaultdict(list)
    out = []
    for example in load_examples(data):
        earlier = kept[database_name(example)]
        shown = most_similar(example.question, earlier, k)
        out.append(replace(example, solved=shown, meta={**example.meta, "kept": len(earlier)}))
        earlier.append(Solved(example.question, example.sql or ""))
    return out


def smolsql(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "smolsql.cli", *args])
    if done.returncode:
        sys.exit(f"smolsql {' '.join(args)} failed")


def correct(run: Path) -> dict[str, bool]:
    """Each question's id: whether its chosen answer was right."""
    out = {}
    for line in (run / "scores.jsonl").open():
        score = json.loads(line)
        out[score["prediction"]["example"]["id"]] = score["execution"] == "correct"
    return out


def curve(run: Path, plain: Path) -> list[dict]:
    from smolsql.records import Example, read_jsonl

    kept = {e.id: e.meta["kept"] for e in read_jsonl(run / "examples.jsonl", Example)}
    with_kept, without = correct(run), correct(plain)
    rows = []
    for low, high in BINS:
        ids = [i for i, n in kept.items() if low <= n <= high and i in without]
        label = f"{low}" if low == high else f"{low}-{high}" if high < 10_000 else f"{low}+"
        if ids:
            rows.append(
                {
                    "kept": label,
                    "questions": len(ids),
                    "with_kept": round(sum(with_kept[i] for i in ids) / len(ids), 4),
                    "nothing_kept": round(sum(without[i] for i in ids) / len(ids), 4),
                }
            )
    return rows


def plot(runs: list[Path], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for run in runs:
        summary = json.loads((run / "curve.json").read_text())
        rows, name = summary["curve"], summary["model"]
        xs = list(range(len(rows)))
        ax.plot(xs, [r["with_kept"] * 100 for r in rows], marker="o", label=f"{name}, kept answers")
        ax.plot(xs, [r["nothing_kept"] * 100 for r in rows], marker="o", linestyle="--",
                label=f"{name}, nothing kept")  # fmt: skip
        ax.set_xticks(xs, [f"{r['kept']}\n({r['questions']} q)" for r in rows])
    ax.set_xlabel("answers kept on the database before the question")
    ax.set_ylabel("execution accuracy, %")
    ax.set_title("Spider validation, asked in order, each gold answer kept after its question")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEV)
    parser.add_argument("--model", help="as --model everywhere (default: the default model)")
    parser.add_argument("--plain", type=Path, help="a run of the same model with nothing kept")
    parser.add_argument("--out", type=Path, help="the run folder")
    parser.add_argument("--plot", type=Path, nargs="+", help="runs to draw, one line each")
    parser.add_argument("--figure", type=Path, default=Path("docs/learning-curve.png"))
    args = parser.parse_args()
    if args.plot:
        plot(args.plot, args.figure)
        print(f"wrote {args.figure}")
        return
    from smolsql.records import write_jsonl

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "examples.jsonl", replay_examples(args.data))
    model = ["--model", args.model] if args.model else []
    common = ["--backend", "llamacpp", "--max-new-tokens", "128", *model]
    smolsql("predict", "--data", str(out / "examples.jsonl"), "--out", str(out), *common)
    smolsql("eval", str(out))
    plain = args.plain
    if plain is None:
        plain = out / "nothing-kept"
        smolsql("predict", "--data", args.data, "--out", str(plain), *common)
        smolsql("eval", str(plain))
    rows = curve(out, plain)
    summary = {"model": args.model or "default model", "plain": str(plain), "curve": rows}
    (out / "curve.json").write_text(json.dumps(summary, indent=2) + "\n")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
