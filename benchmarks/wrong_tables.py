"""Which tables the wrong answers of a scored run read, against the tables the gold SQL reads.

Study #33 asks what a small model gets wrong on long schemas it never saw. A wrong answer
either reads too few of the gold SQL's tables (a join it needs is skipped), reads the right
tables with the wrong logic, reads others, or reads extra ones; and the prompt either showed
every table the gold SQL reads or did not (a linked prompt can miss one). This counts each,
from a run folder's scores.jsonl (`smolsql eval`), no model needed.
Run: .venv/bin/python benchmarks/wrong_tables.py RUN [RUN ...]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from smolsql.link import sql_tables
from smolsql.records import Score, read_jsonl
from smolsql.schema import parse_ddl

KINDS = ("the gold tables", "too few (a join skipped)", "extra tables", "other tables", "none")
"""How an answer's tables stand to the gold SQL's, in the order the table prints them."""


def kind(answer: frozenset[str], gold: frozenset[str]) -> str:
    """How the tables an answer reads stand to those the gold SQL reads."""
    answer, gold = frozenset(a.lower() for a in answer), frozenset(g.lower() for g in gold)
    if not answer:
        return "none"  # it does not parse, or names no table of the schema
    if answer == gold:
        return "the gold tables"
    if answer < gold:
        return "too few (a join skipped)"
    return "extra tables" if answer > gold else "other tables"


def count(run: Path) -> Counter:
    """(right, the prompt showed every gold table, kind) for each scored question."""
    out: Counter = Counter()
    for score in read_jsonl(run / "scores.jsonl", Score):
        example = score.prediction.example
        whole = parse_ddl(example.schema, example.dialect)
        gold = sql_tables(example.sql or "", whole)
        linked = example.linked_schema
        shown = parse_ddl(linked, example.dialect) if linked else whole
        complete = {g.lower() for g in gold} <= {t.name.lower() for t in shown.tables}
        right = score.execution == "correct"
        out[right, complete, kind(sql_tables(score.prediction.sql, whole), gold)] += 1
    return out


def table(run: Path, counts: Counter) -> str:
    wrong = sum(n for (right, _, _), n in counts.items() if not right)
    lines = [
        f"{run}: {sum(counts.values())} questions, {wrong} answered wrong",
        "",
        "| wrong answers' tables | prompt showed every gold table | it did not | share of wrong |",
        "|---|---|---|---|",
    ]
    for k in KINDS:
        shown, missed = counts[False, True, k], counts[False, False, k]
        if shown or missed:
            lines.append(f"| {k} | {shown} | {missed} | {(shown + missed) / wrong:.0%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with scores.jsonl")
    for run in parser.parse_args().runs:
        print(table(run, count(run)), end="\n\n")


if __name__ == "__main__":
    main()
