"""The training databases most like the unseen ones the model fails on, set apart for a study.

The databases where the default model loses most have long schemas joined by foreign-key
chains and coded names. This ranks Spider's training databases by the longest chain of
foreign keys between two of their tables, then by their number of tables, and takes them in
that order until their Spider questions reach --min-questions. Prints the ranking and writes
the list that `exclude_databases` (training) and `--only-databases` (predict) read.
Run: python benchmarks/heldout_databases.py [--min-questions 500] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

SPIDER = Path("../shared/data/spider")
COSQL = Path("../shared/data/cosql/train.json")


def longest_join_path(schema: dict) -> int:
    """The most foreign-key hops between two tables, each pair by its shortest way."""
    columns = schema["column_names_original"]
    links: dict[int, set[int]] = defaultdict(set)
    for a, b in schema["foreign_keys"]:
        ta, tb = columns[a][0], columns[b][0]
        if ta != tb:
            links[ta].add(tb)
            links[tb].add(ta)
    longest = 0
    for start in range(len(schema["table_names_original"])):
        hops = {start: 0}
        queue = [start]
        for table in queue:
            for other in links[table]:
                if other not in hops:
                    hops[other] = hops[table] + 1
                    queue.append(other)
        longest = max(longest, *hops.values())
    return longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-questions", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("configs/heldout-databases.txt"))
    args = parser.parse_args()
    schemas = {s["db_id"]: s for s in json.loads((SPIDER / "tables.json").read_text())}
    spider = Counter(e["db_id"] for e in json.loads((SPIDER / "train.json").read_text()))
    cosql = Counter(e["db_id"] for e in json.loads(COSQL.read_text()))
    rows = sorted(
        (
            (longest_join_path(schemas[db]), len(schemas[db]["table_names_original"]), db)
            for db in spider
        ),
        reverse=True,
    )
    chosen, questions = [], 0
    print("database | longest join path | tables | columns | Spider questions | CoSQL")
    for path, tables, db in rows[:20]:
        if questions < args.min_questions:
            chosen.append((db, path, tables))
            questions += spider[db]
        columns = len(schemas[db]["column_names_original"]) - 1
        mark = " *" if chosen and chosen[-1][0] == db else ""
        print(f"{db}{mark} | {path} | {tables} | {columns} | {spider[db]} | {cosql[db]}")
    lines = [
        "# Training databases set apart for the #33 study: the most like the unseen ones",
        "# that fail (longest foreign-key chains, then most tables), until their Spider",
        f"# questions reach {args.min_questions}: {questions} Spider questions,"
        f" {sum(cosql[d] for d, _, _ in chosen)} CoSQL.",
        "# Made by benchmarks/heldout_databases.py; read by `exclude_databases` (training)",
        "# and `--only-databases` (predict). After each name: longest join path, tables.",
        *(f"{db}  # {path} {tables}" for db, path, tables in chosen),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}: {len(chosen)} databases, {questions} Spider questions")


if __name__ == "__main__":
    main()
