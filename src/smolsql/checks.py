"""Checks on SQL short of running it: it parses, and names only tables and columns that exist.

What the app shows beside the SQL, what the API returns as `problems`, and the
first test a candidate answer must pass before it is run.
"""

from __future__ import annotations

from sqlglot import exp

from smolsql.guard import Refused, check_sql
from smolsql.schema import Schema


def find_problems(sql: str, schema: Schema) -> tuple[str, ...]:
    """Checks short of running: it parses, and names only tables and columns that exist."""
    if not sql:
        return ("the model's answer holds no SQL",)
    try:
        tree = check_sql(sql, schema.dialect, rules=())
    except Refused as exc:
        return (exc.reason,)
    problems = []
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    known_tables = {t.name.lower() for t in schema.tables}
    for table in tree.find_all(exp.Table):
        if table.name and table.name.lower() not in known_tables | ctes:
            problems.append(f"unknown table {table.name}")
    known_columns = {c.name.lower() for t in schema.tables for c in t.columns}
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    # SQLite reads a double-quoted name that matches no column as a string ("Lisbon").
    string_fallback = schema.dialect == "sqlite"
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if not name or name in known_columns | aliases or isinstance(column.this, exp.Star):
            continue
        if string_fallback and column.this.args.get("quoted") and not column.table:
            continue
        problems.append(f"unknown column {column.name}")
    return tuple(dict.fromkeys(problems))
