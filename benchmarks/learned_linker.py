"""Fits the learned table ranker (src/smolsql/ranker.json) and measures it against the
hand-weighted linker on the held-out databases.

Study #33 asks whether a small learned step picks a question's tables better than
`smolsql.link`'s hand-set weights. This fits `smolsql.ranker`'s: a logistic regression over
each table's evidence (`ranker.evidence`), with the tables each training question's gold
SQL reads as targets, on Spider's and Spider-Syn's training questions less the held-out
databases; it writes the weights to ranker.json (the fit is deterministic: the same data
gives the same file). Then it prints table recall and precision on the held-out questions
in both wordings, hand-weighted and learned (`LinkSettings(learned=True)`); with
--examples DIR it writes those questions as `smolsql predict --link-schema on` would link
them with the learned ranker, for `smolsql predict --data F --link-schema off`.
Measured: docs/schema-linking.md ("A learned ranker").
Run: python benchmarks/learned_linker.py [--keep-share 0.2] [--examples DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from schema_linking import linker, measure, schemas_of  # this folder's (on sys.path)

from smolsql.data.loaders import database_name, load_spider, read_database_names
from smolsql.link import LinkSettings, sql_tables, with_linked_schemas
from smolsql.ranker import EVIDENCE, RANKER_FILE, Ranker, default_ranker, evidence
from smolsql.records import Example, write_jsonl

SPIDER = Path("../shared/data/spider")
HELDOUT = Path("configs/heldout-databases.txt")


def fit(examples: Sequence[Example], l2: float = 0.01, rounds: int = 30) -> np.ndarray:
    """Logistic regression weights (Newton's method): is the table one the gold SQL reads."""
    rows, targets = [], []
    schemas = schemas_of(list(examples))
    for example in examples:
        schema = schemas[example.db_path or ""]
        gold = sql_tables(example.sql or "", schema)
        if len(schema.tables) < 2 or not gold:
            continue
        for name, row in evidence(schema, example.question, example.hints).items():
            rows.append(row)
            targets.append(float(name in gold))
    x, y = np.array(rows), np.array(targets)
    w = np.zeros(x.shape[1])
    for _ in range(rounds):
        p = 1 / (1 + np.exp(-x @ w))
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, x.T @ (p - y) + l2 * w)
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-share", type=float, default=0.2, help="keep tables at this share of the best"
    )
    parser.add_argument("--examples", help="write heldout.jsonl and heldout-syn.jsonl here")
    parser.add_argument("--out", help="write the table here (markdown)")
    args = parser.parse_args()
    held = set(read_database_names(HELDOUT))
    loaded = {name: load_spider(SPIDER / f"{name}.json", value_hints=True)
              for name in ("train", "train_syn")}  # fmt: skip
    training = [e for name in loaded for e in loaded[name] if database_name(e) not in held]
    w = fit(training)
    weights = {name: round(float(v), 4) for name, v in zip(EVIDENCE, w, strict=True)}
    about = (
        f"benchmarks/learned_linker.py: fitted on {len(training)} Spider and Spider-Syn "
        f"training questions, the databases in {HELDOUT} left out"
    )
    Ranker(weights, args.keep_share).save(RANKER_FILE, about)
    default_ranker.cache_clear()
    lines = [
        f"{about}; keeping tables at {args.keep_share} of the best chance. Weights: "
        + ", ".join(f"{name} {v:+.2f}" for name, v in weights.items()),
        "",
        "| held-out questions | linker | recall (question) | recall (table) | precision | kept |",
        "|---|---|---|---|---|---|",
    ]
    learned = LinkSettings(learned=True)
    for name, label in (("train", "heldout"), ("train_syn", "heldout-syn")):
        questions = [e for e in loaded[name] if database_name(e) in held]
        for title, settings in (("hand-weighted", LinkSettings()), ("learned", learned)):
            t = measure(questions, linker(settings))["total"]
            n = t["questions"]
            lines.append(
                f"| {label} | {title} | {t['all_gold_kept'] / n:.1%} | "
                f"{t['gold_kept'] / t['gold_tables']:.1%} | "
                f"{t['gold_kept'] / t['kept_tables']:.1%} | {t['kept_tables'] / n:.2f} |"
            )
        if args.examples:
            Path(args.examples).mkdir(parents=True, exist_ok=True)
            asked = [replace(e, hints=()) for e in questions]  # looked up again, as predict does
            write_jsonl(Path(args.examples) / f"{label}.jsonl", with_linked_schemas(asked, learned))
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
