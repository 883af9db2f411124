"""Repairing names: a candidate that names a table or column the schema lacks, spelled as it has.

A small model often writes the right query with a name the schema spells otherwise
(`T1.first_name` for `Fname`, `students` for `Student`). The repair replaces each
unknown table with the schema's closest table name, and each unknown column with the
closest column of the tables the query uses, on sqlglot's parse (never on the text),
so the choosing stage can run the result as one more candidate through the same door.
"""

from __future__ import annotations

import difflib

from sqlglot import exp

from smolsql.schema import Schema, Table
from smolsql.sql.checks import unknown_columns, unknown_tables
from smolsql.sql.text import parse_one, pretty_sql

CUTOFF = 0.5
"""difflib's similarity a replacement needs (0 to 1): below it a name is left as written."""


def repair_names(sql: str, schema: Schema) -> str | None:
    """`sql` with unknown tables and columns replaced by the closest known ones; None if none."""
    tree = parse_one(sql, schema.dialect) if sql else None
    if tree is None:
        return None
    tables = {t.name.lower(): t for t in schema.tables}
    changed = False
    for table in unknown_tables(tree, schema):
        match = _closest(table.name.lower(), list(tables))
        if match:
            table.set("this", exp.to_identifier(tables[match].name))
            changed = True
    used = _used_tables(tree, tables) or list(schema.tables)
    columns = {c.name.lower(): c.name for t in used for c in t.columns}
    for column in unknown_columns(tree, schema, set(columns)):
        match = _closest(column.name.lower(), list(columns))
        if match:
            column.set("this", exp.to_identifier(columns[match]))
            changed = True
    return pretty_sql(tree.sql(dialect=schema.dialect), schema.dialect) if changed else None


def _used_tables(tree: exp.Expression, tables: dict[str, Table]) -> list[Table]:
    return [tables[t.name.lower()] for t in tree.find_all(exp.Table) if t.name.lower() in tables]


def _closest(name: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(name, known, n=1, cutoff=CUTOFF)
    return matches[0] if matches else None
