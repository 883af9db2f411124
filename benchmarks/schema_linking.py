"""How well schema linking picks the tables a question needs, by database, with its size.

For each question of a Spider-format file: the tables its gold SQL reads (the target),
the tables `smolsql.link.link_tables` keeps, and from those recall (all gold tables kept:
the question can still be answered) and precision (kept tables the SQL reads). Questions on
schemas too short to prune count as kept whole. Writes a JSON summary and prints a table.
With --examples FILE it also writes the questions as `Example` records with their schemas
linked (`with_linked_schemas`, as `smolsql predict --link-schema on` does, under these
settings), for `smolsql predict --data FILE --link-schema off` to score the model on them;
with --gold, each linked schema holds exactly the tables the gold SQL reads: the ceiling
of any linking (what a perfect linker would give); with --lead-tables N, schemas of fewer
than N tables are asked whole first and the linked schema only writes candidates when that
answer fails (`LinkSettings.lead_tables`; docs/unseen-databases.md, step 8).
With --budget N it measures instead the tables the schema budget keeps when the prompt
may hold N schema tokens (`render_schema(schema, question, N)`, as `ask --max-schema-tokens`
cuts a schema too long for it; counted with the base model's tokenizer).
Run: python benchmarks/schema_linking.py --data ../shared/data/spider/dev.json
     [--only-databases configs/heldout-databases.txt] [--value-hints] [--out FILE]
     [--min-tables N] [--neighbours] [--synonyms] [--examples FILE [--gold | --lead-tables N]]
     [--budget N]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from smolsql.data.loaders import database_name, load_spider, read_database_names, select_databases
from smolsql.db import open_database
from smolsql.link import (
    LinkSettings,
    link_tables,
    pruned_schema,
    sql_tables,
    with_linked_schemas,
)
from smolsql.records import Example, write_jsonl
from smolsql.schema import Schema, render_schema


def schemas_of(examples: list[Example]) -> dict[str, Schema]:
    """Each example's database's schema, read once a database."""
    schemas: dict[str, Schema] = {}
    for example in examples:
        if example.db_path and example.db_path not in schemas:
            with open_database(example.db_path) as db:
                schemas[example.db_path] = db.schema()
    return schemas


Pick = Callable[[Schema, Example], tuple[set[str], bool]]
"""The tables shown for an example (by the schema's spelling), and whether any were left out."""


def linker(settings: LinkSettings) -> Pick:
    def pick(schema: Schema, example: Example) -> tuple[set[str], bool]:
        link = link_tables(schema, example.question, example.hints, settings)
        return set(link.tables), link.pruned

    return pick


def budget(max_tokens: int) -> Pick:
    from smolsql.models import load_tokenizer, resolve_model

    tokenizer = load_tokenizer(resolve_model(None))

    def count(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    def pick(schema: Schema, example: Example) -> tuple[set[str], bool]:
        cut = render_schema(schema, example.question, max_tokens, count).dropped_tables
        return {t.name for t in schema.tables} - set(cut), bool(cut)

    return pick


def measure(examples: list[Example], pick: Pick) -> dict:
    per_db: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    schemas = schemas_of(examples)
    for example in examples:
        schema = schemas[example.db_path or ""]
        gold = sql_tables(example.sql or "", schema)
        kept, pruned = pick(schema, example)
        row = per_db[database_name(example)]
        row["tables"] = len(schema.tables)
        row["questions"] += 1
        row["pruned"] += pruned
        row["all_gold_kept"] += gold <= kept
        row["gold_tables"] += len(gold)
        row["gold_kept"] += len(gold & kept)
        row["kept_tables"] += len(kept)
    total = defaultdict(float)
    for row in per_db.values():
        for key, value in row.items():
            if key != "tables":
                total[key] += value
    return {"by_database": {k: dict(v) for k, v in per_db.items()}, "total": dict(total)}


def gold_linked(examples: list[Example]) -> list[Example]:
    """Each example with the tables its gold SQL reads as its linked schema."""
    out = []
    schemas = schemas_of(examples)
    for example in examples:
        schema = schemas[example.db_path or ""]
        gold = sql_tables(example.sql or "", schema)
        shown = render_schema(pruned_schema(schema, gold)).text if gold else ""
        out.append(replace(example, linked_schema=shown))
    return out


def describe(row: dict) -> str:
    n = row["questions"]
    return (
        f"{n:5.0f} | {row['pruned'] / n:6.1%} | {row['all_gold_kept'] / n:6.1%} | "
        f"{row['gold_kept'] / max(1, row['gold_tables']):6.1%} | "
        f"{row['gold_kept'] / max(1, row['kept_tables']):6.1%} | {row['kept_tables'] / n:5.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--only-databases")
    parser.add_argument("--value-hints", action="store_true")
    parser.add_argument("--min-tables", type=int, default=LinkSettings.min_tables)
    parser.add_argument("--lead-tables", type=int, default=LinkSettings.lead_tables)
    parser.add_argument("--neighbours", action="store_true")
    parser.add_argument("--synonyms", action="store_true", help="LinkSettings(synonyms=True)")
    parser.add_argument("--out")
    parser.add_argument("--examples", help="write the linked examples here (JSONL)")
    parser.add_argument("--gold", action="store_true", help="link to the gold SQL's tables")
    parser.add_argument("--budget", type=int, help="measure the schema budget's cut instead")
    args = parser.parse_args()
    only = read_database_names(args.only_databases) if args.only_databases else None
    settings = LinkSettings(
        min_tables=args.min_tables,
        lead_tables=args.lead_tables,
        neighbours=args.neighbours,
        synonyms=args.synonyms,
    )
    examples = select_databases(load_spider(args.data, value_hints=args.value_hints), only)
    result = measure(examples, budget(args.budget) if args.budget else linker(settings))
    if args.examples:
        linked = gold_linked(examples) if args.gold else with_linked_schemas(examples, settings)
        write_jsonl(args.examples, linked)
    result["settings"] = vars(args)
    print(
        "database | tables | questions | pruned | recall (question) | recall (table) | "
        "precision | kept"
    )
    rows = sorted(result["by_database"].items(), key=lambda kv: -kv[1]["tables"])
    for name, row in rows:
        print(f"{name} | {row['tables']:.0f} | {describe(row)}")
    print(f"all | | {describe(result['total'])}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
