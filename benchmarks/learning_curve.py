"""The learning curve: does a database's answers get better as a person keeps checked ones?

Replays a person using smolsql on each validation database: the questions asked in file
order, and after each one its gold SQL kept, as a person who fixed the answer would keep
it. Each question is asked with what was kept before it on its database (the most similar
3 go in the prompt, as `ask` does with kept answers; an earlier question with the same
query counts, as it would for that person), with the default 8 candidates, through
`smolsql predict` and scored by `smolsql eval`. The same questions asked with nothing kept
come from a plain run of the same model (--plain, or one made here). Accuracy is then
grouped by how many answers were kept when the question was asked, and split by whether
the question's own query was among the kept answers shown (curve.json). --sweep estimates,
with no model, what a similarity floor on kept answers would do (floors.json).
Run: .venv/bin/python benchmarks/learning_curve.py [--model M] [--name N] [--plain RUN]
       [--data FILE] --out benchmarks/results/learning-curve/NAME
     .venv/bin/python benchmarks/learning_curve.py --sweep --plain RUN --out OUT/NAME
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
    """Each question with the most similar of the gold answers kept before it on its database,
    and how alike the most alike of all of them is (meta "nearest", for --sweep)."""
    from smolsql.data.loaders import database_name, load_examples
    from smolsql.records import Solved
    from smolsql.solved import most_similar, similarities

    kept: dict[str, list[Solved]] = defaultdict(list)
    out = []
    for example in load_examples(data):
        earlier = kept[database_name(example)]
        shown = most_similar(example.question, earlier, k)
        nearest = round(max(similarities(example.question, earlier), default=0.0), 4)
        meta = {**example.meta, "kept": len(earlier), "nearest": nearest}
        out.append(replace(example, solved=shown, meta=meta))
        earlier.append(Solved(example.question, example.sql or ""))
    return out


def smolsql(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "smolsql.cli", *args])
    if done.returncode:
        sys.exit(f"smolsql {' '.join(args)} failed")


def scores(run: Path) -> dict:
    """Each question's id: its score in the run."""
    from smolsql.records import Score, read_jsonl

    return {s.prediction.example.id: s for s in read_jsonl(run / "scores.jsonl", Score)}


def _row(ids: list[str], with_kept: dict, without: dict) -> dict:
    """Accuracy of the questions `ids` with and without kept answers, who is right alone,
    and the two-sided sign test over those."""
    from smolsql.evaluate.report import greedy_right, is_right, paired, sign_test

    def share(run: dict, right) -> float:
        return round(sum(right(run[i]) for i in ids) / len(ids), 4)

    gained, lost = paired({i: without[i] for i in ids}, {i: with_kept[i] for i in ids})
    return {
        "questions": len(ids),
        "with_kept": share(with_kept, is_right),
        "nothing_kept": share(without, is_right),
        "greedy_with_kept": share(with_kept, greedy_right),
        "greedy_nothing_kept": share(without, greedy_right),
        "right_only_with_kept": gained,
        "right_only_nothing_kept": lost,
        "sign_test_p": round(sign_test(gained, lost), 4),
    }


def curve(run: Path, plain: Path) -> dict:
    """The curve by answers kept, and the same questions split by whether a kept answer
    shown in the prompt has the question's own query (Spider asks a query in several
    wordings; a person asks theirs again too): copying it and using it are not the same."""
    from smolsql.records import Example, read_jsonl
    from smolsql.sql.text import normalized_sql

    with_kept, without = scores(run), scores(plain)
    examples = [e for e in read_jsonl(run / "examples.jsonl", Example) if e.id in without]
    rows = []
    for low, high in BINS:
        ids = [e.id for e in examples if low <= e.meta["kept"] <= high]
        label = f"{low}" if low == high else f"{low}-{high}" if high < 10_000 else f"{low}+"
        if ids:
            rows.append({"kept": label, **_row(ids, with_kept, without)})

    def own_query_shown(example: Example) -> bool:
        own = normalized_sql(example.sql or "")
        return own is not None and any(normalized_sql(s.sql) == own for s in example.solved)

    split = []
    for same in (True, False):
        ids = [e.id for e in examples if own_query_shown(e) == same]
        if ids:
            split.append({"own_query_shown": same, **_row(ids, with_kept, without)})
    every = _row([e.id for e in examples], with_kept, without)
    return {"all": every, "curve": rows, "own_query_shown": split}


FLOORS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def floor_sweep(run: Path, plain: Path, data: str) -> list[dict]:
    """What a similarity floor would do, from a replay made without one and its plain run,
    with no model: a question whose most alike kept answer reaches the floor keeps its
    answer from the replay; any other takes the plain run's, as it would have been asked
    with nothing kept. (A floor that drops only the less alike of the three shown is not
    simulated: it would need a replay of its own.)"""
    from smolsql.evaluate.report import is_right, paired, sign_test

    with_kept, without = scores(run), scores(plain)
    nearest = {e.id: e.meta["nearest"] for e in replay_examples(data) if e.id in with_kept}
    rows = []
    for floor in FLOORS:
        gated = {i: with_kept[i] if nearest[i] >= floor else without[i] for i in nearest}
        gained, lost = paired({i: without[i] for i in nearest}, gated)
        better, worse = paired({i: with_kept[i] for i in nearest}, gated)
        rows.append(
            {
                "floor": floor,
                "asked_with_kept": sum(n >= floor for n in nearest.values()),
                "accuracy": round(sum(map(is_right, gated.values())) / len(gated), 4),
                "right_only_with_floor": gained,
                "right_only_nothing_kept": lost,
                "sign_test_p": round(sign_test(gained, lost), 4),
                "right_only_with_floor_not_without": better,
                "right_only_without_floor": worse,
                "sign_test_p_against_no_floor": round(sign_test(better, worse), 4),
            }
        )
    return rows


def plot(runs: list[Path], out: Path) -> None:
    """Left: accuracy by answers kept, one pair of lines a model. Right: the same questions
    split by whether their own query was among the kept answers shown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, split) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [2.2, 1]})
    width = 0.8 / (2 * len(runs))
    for n, run in enumerate(runs):
        summary = json.loads((run / "curve.json").read_text())
        rows, name = summary["curve"], summary["model"]
        xs = list(range(len(rows)))
        line = ax.plot(xs, [r["with_kept"] * 100 for r in rows], marker="o",
                       label=f"{name}, kept answers")  # fmt: skip
        ax.plot(xs, [r["nothing_kept"] * 100 for r in rows], marker="o", linestyle="--",
                color=line[0].get_color(), label=f"{name}, nothing kept")  # fmt: skip
        ax.set_xticks(xs, [f"{r['kept']}\n({r['questions']} q)" for r in rows])
        groups = summary["own_query_shown"]
        for m, key in enumerate(("with_kept", "nothing_kept")):
            offset = (2 * n + m) * width - 0.4 + width / 2
            split.bar([i + offset for i in range(len(groups))], [g[key] * 100 for g in groups],
                      width, color=line[0].get_color(), alpha=1.0 if m == 0 else 0.4)  # fmt: skip
        split.set_xticks(
            range(len(groups)),
            [("its own query\nwas kept" if g["own_query_shown"] else "it was not")
             + f"\n({g['questions']} q)" for g in groups],
        )  # fmt: skip
    ax.set_xlabel("answers kept on the database before the question")
    ax.set_ylabel("execution accuracy, %")
    ax.set_title("Spider validation, asked in order, each gold answer kept after it", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    split.set_title("the same questions (pale: nothing kept)", fontsize=10)
    split.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEV)
    parser.add_argument("--model", help="as --model everywhere (default: the default model)")
    parser.add_argument("--name", help="the model's name in the figure (default: --model)")
    parser.add_argument("--plain", type=Path, help="a run of the same model with nothing kept")
    parser.add_argument("--out", type=Path, help="the run folder")
    parser.add_argument(
        "--sweep", action="store_true", help="from --out and --plain: what floors would do"
    )
    parser.add_argument("--plot", type=Path, nargs="+", help="runs to draw, one line each")
    parser.add_argument("--figure", type=Path, default=Path("docs/learning-curve.png"))
    args = parser.parse_args()
    if args.plot:
        plot(args.plot, args.figure)
        print(f"wrote {args.figure}")
        return
    if args.sweep:
        rows = floor_sweep(args.out, args.plain, args.data)
        (args.out / "floors.json").write_text(json.dumps(rows, indent=2) + "\n")
        for row in rows:
            print(row)
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
    name = args.name or args.model or "default model"
    summary = {"model": name, "data": args.data, "plain": str(plain), **rows}
    (out / "curve.json").write_text(json.dumps(summary, indent=2) + "\n")
    for row in [rows["all"], *rows["curve"], *rows["own_query_shown"]]:
        print(row)


if __name__ == "__main__":
    main()
