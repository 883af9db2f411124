"""Repairing names: a candidate that names a table or column the schema lacks, spelled as it has.

A small model often writes the right query with a name the schema spells otherwise
(`T1.first_name` for `Fname`, `students` for `Student`), or puts a column on the wrong
side of a join (`T2.name` where T2 is `concert` and `name` is the other table's). The
repair replaces each unknown table with the schema's closest table name, moves a column
whose qualifier's table lacks it to the one other table of its SELECT that has it, and
replaces each unknown column with the closest column of the tables the query uses, all
on sqlglot's parse (never on the text), so the choosing stage can run the result as one
more candidate through the same door.
"""

from __future__ import annotations

import difflib

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from smolsql.schema import Schema, Table
from smolsql.sql.checks import unknown_columns, unknown_tables
from smolsql.sql.text import parse_one, pretty_sql

CUTOFF = 0.5
"""difflib's similarity a replacement needs (0 to 1): below it a name is left as written."""


def repair_names(sql: str, schema: Schema) -> str | None:
    """`sql` with unknown tables and columns replaced by the closest known ones, and columns
    moved to the joined table that has them; None if nothing changed."""
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
    changed |= _requalify(tree, tables)
    used = _used_tables(tree, tables) or list(schema.tables)
    columns = {c.name.lower(): c.name for t in used for c in t.columns}
    for column in unknown_columns(tree, schema, set(columns)):
        match = _closest(column.name.lower(), list(columns))
        if match:
            column.set("this", exp.to_identifier(columns[match]))
            changed = True
    return pretty_sql(tree.sql(dialect=schema.dialect), schema.dialect) if changed else None


def _requalify(tree: exp.Expression, tables: dict[str, Table]) -> bool:
    """Move `T.col` to the one other table of its SELECT that has `col`, when T's table lacks it.

    Only when exactly one table in that SELECT's FROM and JOINs has the column: with two,
    which one was meant is a guess, and the candidate is left as written. Columns of a
    join's own condition stay too: there the mistake is the join, not the qualifier.
    """
    try:
        scopes = traverse_scope(tree)
    except SqlglotError:  # a query sqlglot cannot scope is left as written
        return False
    changed = False
    for scope in scopes:
        holds = {  # each alias (or bare table name) in this SELECT -> its columns
            alias.lower(): (alias, {c.name.lower() for c in tables[source.name.lower()].columns})
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table) and source.name.lower() in tables
        }
        for column in scope.columns:
            qualifier, name = column.table.lower(), column.name.lower()
            if qualifier not in holds or name in holds[qualifier][1]:
                continue
            if isinstance(column.find_ancestor(exp.Join, exp.Select), exp.Join):
                continue  # in a join's condition, `T1.id = T2.id` would join T1 to itself
            others = [alias for alias, names in holds.values() if name in names]
            if len(others) == 1:
                column.set("table", exp.to_identifier(others[0]))
                changed = True
    return changed


def _used_tables(tree: exp.Expression, tables: dict[str, Table]) -> list[Table]:
    return [tables[t.name.lower()] for t in tree.find_all(exp.Table) if t.name.lower() in tables]


def _closest(name: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(name, known, n=1, cutoff=CUTOFF)
    return matches[0] if matches else None
