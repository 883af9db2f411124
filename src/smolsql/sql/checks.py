"""Checks on SQL short of running it: it parses, and names only tables and columns that exist.

What the app shows beside the SQL, what the API returns as `problems`, and the
first test a candidate answer must pass before it is run.
"""

from __future__ import annotations

from sqlglot import exp

from smolsql.schema import Schema
from smolsql.sql.guard import Refused, check_sql


def find_problems(sql: str, schema: Schema) -> tuple[str, ...]:
    """Checks short of running: it parses, and names only tables and columns that exist."""
    if not sql:
        return ("the model's answer holds no SQL",)
    try:
        tree = check_sql(sql, schema.dialect, rules=())
    except Refused as exc:
        return (exc.reason,)
    problems = [f"unknown table {t.name}" for t in unknown_tables(tree, schema)]
    known = {c.name.lower() for t in schema.tables for c in t.columns}
    problems += [f"unknown column {c.name}" for c in unknown_columns(tree, schema, known)]
    return tuple(dict.fromkeys(problems))


def unknown_tables(tree: exp.Expression, schema: Schema) -> list[exp.Table]:
    """The table references naming neither a table of `schema` nor a CTE of the query."""
    known = {t.name.lower() for t in schema.tables}
    known |= {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return [t for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in known]


def unknown_columns(tree: exp.Expression, schema: Schema, known: set[str]) -> list[exp.Column]:
    """Column references in none of `known` (lower-cased), nor names the query made itself.

    The query makes names with `AS` and with column lists (`WITH t(n) AS ...`, `AS t(n)`).
    `*` is no name, and SQLite reads a double-quoted name that matches no column as a
    string ("Lisbon"), so neither is unknown.
    """
    made = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    made |= {c.name.lower() for t in tree.find_all(exp.TableAlias) for c in t.columns}
    out = []
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if not name or name in known or name in made or isinstance(column.this, exp.Star):
            continue
        if schema.dialect == "sqlite" and column.this.args.get("quoted") and not column.table:
            continue
        out.append(column)
    return out
