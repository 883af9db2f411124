"""Database schemas: a small typed model, a DDL reader, and the prompt rendering.

The model sees the schema as compact CREATE TABLE statements, one line per table,
keys included, so it can copy table and column names. Live databases are read
in `smolsql.db`; raw DDL (gretel's `sql_context`, a `schema.sql` file) is read
here with sqlglot, so any dialect sqlglot knows works. Foreign keys make the join graph
(`join_graph`, `join_path`) that schema linking keeps whole chains by.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sqlglot import exp

from smolsql.errors import SmolsqlError
from smolsql.lexical import PICK_SCORE, table_scores, words
from smolsql.sql.text import InvalidSQL, dialect_name, parse_sql, quote_identifier


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""
    primary_key: bool = False
    samples: tuple[str, ...] = ()
    """A few distinct values, already rendered as SQL literals."""


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...]
    dialect: str = "sqlite"

    def table(self, name: str) -> Table | None:
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)


@dataclass(frozen=True)
class RenderedSchema:
    """The prompt text, and what the token budget made us leave out (said, never silent)."""

    text: str
    dropped_tables: tuple[str, ...] = ()
    truncated_tables: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- DDL


def parse_ddl(text: str, dialect: str = "sqlite", samples: int = 3) -> Schema:
    """Read CREATE TABLE statements (and sample values from INSERTs) out of DDL text.

    Statements sqlglot cannot parse are skipped one by one, so one odd statement
    in a long script does not lose the rest.
    """
    tables: dict[str, Table] = {}
    inserted: dict[str, dict[str, list[str]]] = {}
    for statement in _statements(text, dialect):
        if isinstance(statement, exp.Create) and statement.kind == "TABLE":
            table = _table_from_create(statement, dialect)
            if table is not None:
                tables[table.name.lower()] = table
        elif isinstance(statement, exp.Insert) and samples:
            _collect_insert(statement, inserted, dialect)
    if not tables:
        raise SmolsqlError("no CREATE TABLE statement found in the schema text")
    result = []
    for key, table in tables.items():
        values = inserted.get(key, {})
        columns = tuple(
            replace(c, samples=tuple(_dedupe(values.get(c.name.lower(), [])))[:samples])
            for c in table.columns
        )
        result.append(replace(table, columns=columns))
    return Schema(tables=tuple(result), dialect=dialect)


def _statements(text: str, dialect: str) -> Iterable[exp.Expression]:
    dialect_name(dialect)  # an unknown dialect is the caller's error, not a skipped statement
    try:
        yield from parse_sql(text, dialect)
        return
    except InvalidSQL:
        pass
    for chunk in text.split(";"):
        if not chunk.strip():
            continue
        try:
            yield from parse_sql(chunk, dialect)
        except InvalidSQL:
            continue


def _table_from_create(create: exp.Create, dialect: str) -> Table | None:
    body = create.this
    if not isinstance(body, exp.Schema) or not isinstance(body.this, exp.Table):
        return None
    name = body.this.name
    columns: list[Column] = []
    primary: set[str] = set()
    fks: list[ForeignKey] = []
    for item in body.expressions:
        if isinstance(item, exp.ColumnDef):
            kind = item.args.get("kind")
            is_pk = any(
                isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint)
                for c in item.constraints
            )
            columns.append(Column(item.name, kind.sql() if kind else "", is_pk))
            for c in item.constraints:
                ref = c.args.get("kind")
                if isinstance(ref, exp.Reference):
                    target = ref.this
                    ref_table = target.this.name if isinstance(target, exp.Schema) else target.name
                    ref_cols = (
                        tuple(e.name for e in target.expressions)
                        if isinstance(target, exp.Schema)
                        else ()
                    )
                    fks.append(ForeignKey((item.name,), ref_table, ref_cols))
        elif isinstance(item, exp.PrimaryKey):
            primary.update(e.name for e in item.expressions)
        elif isinstance(item, exp.ForeignKey):
            ref = item.args.get("reference")
            target = ref.this if ref else None
            if isinstance(target, exp.Schema):
                fks.append(
                    ForeignKey(
                        tuple(e.name for e in item.expressions),
                        target.this.name,
                        tuple(e.name for e in target.expressions),
                    )
                )
    if not columns:
        return None
    if len(primary) == 1:
        columns = [replace(c, primary_key=c.primary_key or c.name in primary) for c in columns]
    return Table(name, tuple(columns), tuple(fks))


def _collect_insert(insert: exp.Insert, into: dict[str, dict[str, list[str]]], dialect: str):
    target = insert.this
    if isinstance(target, exp.Schema):
        table, names = target.this.name, [e.name for e in target.expressions]
    else:
        table, names = target.name, []
    values = insert.expression
    if not isinstance(values, exp.Values) or not names:
        return
    per_column = into.setdefault(table.lower(), {})
    for row in values.expressions:
        for name, value in zip(names, row.expressions, strict=False):
            if isinstance(value, exp.Literal):
                per_column.setdefault(name.lower(), []).append(value.sql(dialect))


def _dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# ------------------------------------------------------------------------- joins


def join_graph(schema: Schema) -> dict[str, set[str]]:
    """Tables as nodes, foreign keys as undirected edges, by the schema's own spelling."""
    spelled = {t.name.lower(): t.name for t in schema.tables}
    graph: dict[str, set[str]] = {t.name: set() for t in schema.tables}
    for table in schema.tables:
        for fk in table.foreign_keys:
            other = spelled.get(fk.ref_table.lower())
            if other and other != table.name:
                graph[table.name].add(other)
                graph[other].add(table.name)
    return graph


def join_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str]:
    """The tables on a shortest foreign-key path from start to goal ([] when none joins them)."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = before[node]
            return path
        for nxt in sorted(graph.get(node, ())):
            if nxt not in before:
                before[nxt] = node
                queue.append(nxt)
    return []


def joining(graph: dict[str, set[str]], tables: list[str]) -> set[str]:
    """The tables on a shortest foreign-key path between any two of `tables`."""
    return {t for a in tables for b in tables if a < b for t in join_path(graph, a, b)}


# --------------------------------------------------------------------------- rendering


def render_table(table: Table, dialect: str = "sqlite") -> str:
    """One compact line: CREATE TABLE t (col TYPE PRIMARY KEY, ..., FOREIGN KEY ...);"""
    q = _quoter(dialect)
    parts = []
    for c in table.columns:
        piece = q(c.name) + (f" {c.type}" if c.type else "")
        parts.append(piece + (" PRIMARY KEY" if c.primary_key else ""))
    for fk in table.foreign_keys:
        ref = (
            f"{q(fk.ref_table)}({', '.join(map(q, fk.ref_columns))})"
            if fk.ref_columns
            else (q(fk.ref_table))
        )
        parts.append(f"FOREIGN KEY ({', '.join(map(q, fk.columns))}) REFERENCES {ref}")
    line = f"CREATE TABLE {q(table.name)} ({', '.join(parts)});"
    # Text samples show how literals are spelled; numbers and keys only cost tokens.
    samples = [
        f"{c.name}: {', '.join(c.samples)}"
        for c in table.columns
        if not c.primary_key and any(v.startswith("'") for v in c.samples)
    ]
    if samples:
        line += "\n-- e.g. " + "; ".join(samples)
    return line


DEFAULT_SCHEMA_TOKENS = 1536
"""Schema budget in the prompt: SmolLM2 saw 8k contexts, but a 135M model reads short ones best."""


def render_schema(
    schema: Schema,
    question: str | None = None,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> RenderedSchema:
    """Render for the prompt, within `max_tokens` when given.

    Strategy when the schema is too long: tables are ranked by how strongly the
    question points at them (`smolsql.lexical`, as schema linking ranks them), the
    tables they reference next, kept in that order while they fit, and written out in
    their original order. A single table too long on its own keeps its
    best-matching columns. What was left out is returned, so callers can say so.
    """
    count = count_tokens or approx_tokens
    lines = [render_table(t, schema.dialect) for t in schema.tables]
    full = "\n".join(lines)
    if max_tokens is None or count(full) <= max_tokens:
        return RenderedSchema(full)

    scores = _budget_scores(schema, question or "")
    order = sorted(range(len(lines)), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    used = 0
    for i in order:
        cost = count(lines[i]) + 1
        if used + cost <= max_tokens:
            kept.append(i)
            used += cost
    truncated: tuple[str, ...] = ()
    if not kept:
        best = schema.tables[order[0]]
        line = _shrink_table(best, question or "", schema.dialect, max_tokens, count)
        lines[order[0]] = line
        kept, truncated = [order[0]], (best.name,)
    kept.sort()
    dropped = tuple(schema.tables[i].name for i in range(len(lines)) if i not in set(kept))
    return RenderedSchema("\n".join(lines[i] for i in kept), dropped, truncated)


def _budget_scores(schema: Schema, question: str) -> list[float]:
    """Each table's claim to a place in a schema cut to fit: how strongly the question
    points at it (`smolsql.lexical`, as schema linking scores it), and a little for a
    table that a table it points at references, so that the join stays possible."""
    by_name = table_scores(schema, question)
    scores = [by_name[t.name] for t in schema.tables]
    position = {t.name.lower(): i for i, t in enumerate(schema.tables)}
    for table in schema.tables:
        if by_name[table.name] >= PICK_SCORE:
            for fk in table.foreign_keys:
                j = position.get(fk.ref_table.lower())
                if j is not None and scores[j] < PICK_SCORE / 2:
                    scores[j] = PICK_SCORE / 2
    return scores


def _shrink_table(table, question, dialect, max_tokens, count) -> str:
    asked = set(words(question))
    ranked = sorted(
        table.columns,
        key=lambda c: (not c.primary_key, -len(asked.intersection(words(c.name)))),
    )
    keep: list[Column] = []
    for column in ranked:
        trial = replace(table, columns=(*keep, column), foreign_keys=())
        if keep and count(render_table(trial, dialect)) > max_tokens:
            break
        keep.append(column)
    order = {c.name: i for i, c in enumerate(table.columns)}
    keep.sort(key=lambda c: order[c.name])
    return render_table(replace(table, columns=tuple(keep), foreign_keys=()), dialect)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 3.5 characters a token for SQL-ish English)."""
    return (len(text) * 2 + 6) // 7


def _quoter(dialect: str) -> Callable[[str], str]:
    def quote(name: str) -> str:
        return quote_identifier(name, dialect, always=False)

    return quote
