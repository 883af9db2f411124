"""Execution accuracy: run gold and predicted SQL on the example's database, compare results.

Spider-style examples carry a database file, opened read-only. gretel-style
examples carry `setup_sql` (CREATE and INSERT statements): each query gets a
fresh in-memory SQLite database built from it, so DML can run and be judged by
the state it leaves, and nothing the user owns is ever written.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from smolsql.db import detect_kind, open_database
from smolsql.db.base import Limits, timeout_message
from smolsql.db.sqlite import time_limit, was_interrupted
from smolsql.errors import SmolsqlError
from smolsql.records import Example
from smolsql.sql.text import parse_one, pretty_sql, quote_identifier

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Outcome:
    """What running one query gave: rows (or, after DML, every table's rows), or an error."""

    rows: tuple[tuple[Any, ...], ...] | None = None
    error: str | None = None
    changed_state: bool = False


def run_query(
    example: Example,
    sql: str,
    timeout_s: float = 10.0,
    gold: bool = False,
    allow_writes: bool = False,
) -> Outcome:
    """Run `sql` where `example` lives; gold SQL that fails is retried transpiled to SQLite.

    A database file is opened read-only, so DML fails there, unless `allow_writes`: then
    a statement that is not a query runs on a throwaway copy, judged by the state it leaves.
    """
    if example.setup_sql:
        outcome = _run_in_memory(example.setup_sql, sql, timeout_s)
        if outcome.error and gold:
            for dialect in ("mysql", "postgres"):
                translated = pretty_sql(sql, dialect, to="sqlite")  # unchanged if unparseable
                if translated != sql:
                    retry = _run_in_memory(example.setup_sql, translated, timeout_s)
                    if retry.error is None:
                        return retry
        return outcome
    if example.db_path and allow_writes and not _is_query(sql, example.dialect):
        return _run_on_copy(example.db_path, sql, timeout_s)
    if example.db_path:
        try:
            with open_database(example.db_path) as db:
                result = db.execute(sql, Limits(MAX_ROWS, timeout_s))
            return Outcome(rows=tuple(tuple(r) for r in result.rows))
        except SmolsqlError as exc:
            return Outcome(error=str(exc))
    return Outcome(error="the example has no database")


def _run_in_memory(setup_sql: str, sql: str, timeout_s: float) -> Outcome:
    conn, error = _fresh_database(setup_sql)
    if conn is None:
        return Outcome(error=f"setup failed: {error}")
    return _run_and_close(conn, sql, timeout_s)


def _run_on_copy(db_path: str, sql: str, timeout_s: float) -> Outcome:
    """DML on a copy in a temporary folder, deleted afterwards; the original is only read."""
    if detect_kind(Path(db_path)) != "sqlite":
        return Outcome(error="writes are evaluated on SQLite files only")
    with tempfile.TemporaryDirectory(prefix="smolsql-scratch-") as folder:
        copy = Path(folder) / "scratch.sqlite"
        shutil.copyfile(db_path, copy)
        return _run_and_close(sqlite3.connect(copy), sql, timeout_s)


def _is_query(sql: str, dialect: str) -> bool:
    tree = parse_one(sql, dialect)
    return tree is None or isinstance(tree, exp.Query)  # unparseable: the database says why


def _run_and_close(conn: sqlite3.Connection, sql: str, timeout_s: float) -> Outcome:
    try:
        with time_limit(conn, timeout_s):
            cursor = conn.execute(sql)
            rows = cursor.fetchmany(MAX_ROWS) if cursor.description else []
        if cursor.description is None:  # DML or DDL: the database state is the result
            return Outcome(rows=_dump(conn), changed_state=True)
        return Outcome(rows=tuple(tuple(r) for r in rows))
    except (sqlite3.Error, sqlite3.Warning) as exc:
        if was_interrupted(exc):
            return Outcome(error=timeout_message(timeout_s))
        return Outcome(error=str(exc))
    finally:
        conn.close()


def _fresh_database(setup_sql: str) -> tuple[sqlite3.Connection | None, str]:
    """A new in-memory database built from `setup_sql`, as written or transpiled to SQLite."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(setup_sql)
        return conn, ""
    except sqlite3.Error as exc:
        conn.close()
        first_error = str(exc)
    # gretel's contexts mix MySQL and Postgres syntax: transpile statement by statement.
    try:
        statements = sqlglot.transpile(setup_sql, write="sqlite")
    except (ParseError, TokenError):
        return None, first_error
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            conn.close()
            return None, f"{first_error}; transpiled: {exc}"
    return conn, ""


def _dump(conn: sqlite3.Connection) -> tuple[tuple[Any, ...], ...]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    state: list[tuple[Any, ...]] = []
    for table in sorted(tables):
        for row in conn.execute(f"SELECT * FROM {quote_identifier(table)}"):
            state.append((table, *row))
    return tuple(state)


def is_ordered(sql: str, dialect: str = "sqlite") -> bool:
    """True when the outermost query sorts its rows, so row order is part of the answer."""
    tree = parse_one(sql, dialect)
    return tree is not None and bool(tree.args.get("order"))
