"""Which tables the wrong answers of scored runs read, against the tables the gold SQL reads.

Study #33 asks what a small model gets wrong on long schemas it never saw. A wrong answer
reads too few of the gold SQL's tables (a join it needs is skipped), the right tables with
the wrong logic, others, or extra ones; and a linked prompt can lack a table the gold SQL
reads. `smolsql eval` reports this for a run it scores (`evaluate.metrics.wrong_tables`);
this puts runs scored before side by side, from their scores.jsonl, no model needed.
Measured: docs/unseen-databases.md ("What the wrong answers read").
Run: .venv/bin/python benchmarks/wrong_tables.py RUN [RUN ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smolsql.evaluate.metrics import LINKED_MISSED, TABLE_KINDS, wrong_tables
from smolsql.records import MISSED, Score, read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with scores.jsonl")
    runs = parser.parse_args().runs
    columns = []
    for run in runs:
        scores = list(read_jsonl(run / "scores.jsonl", Score))
        wrong = sum(s.execution in MISSED for s in scores)
        columns.append((wrong, len(scores), wrong_tables(scores)))
    print("| wrong answers | " + " | ".join(str(r) for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    print("| wrong | " + " | ".join(f"{w} of {n}" for w, n, _ in columns) + " |")
    for kind in TABLE_KINDS:
        cells = [f"{t.get(kind, 0) / w:.0%}" if w else "" for w, _, t in columns]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(
        f"| {LINKED_MISSED} | "
        + " | ".join(str(t.get(LINKED_MISSED, "")) for *_, t in columns)
        + " |"
    )


if __name__ == "__main__":
    main()
