"""SQLite files, opened read-only (`mode=ro` and `query_only`), with a time limit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from smolsql.db.base import Database, timeout_message
from smolsql.errors import SmolsqlError
from smolsql.schema import Column, ForeignKey, Schema, Table
from smolsql.sql.text import quote_identifier


@contextmanager
def time_limit(conn: sqlite3.Connection, timeout_s: float) -> Iterator[None]:
    """Interrupt a statement on `conn` that runs past `timeout_s` (see `was_interrupted`)."""
    deadline = time.monotonic() + timeout_s
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def was_interrupted(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc)


def _decode(raw: bytes) -> str:
    # Spider's databases hold a few bytes that are not UTF-8; show them, never fail.
    return raw.decode("utf-8", errors="replace")


def _explain(exc: Exception) -> str:
    if "database is locked" in str(exc):
        return "the database is locked by another program writing to it; try again later"
    return str(exc)


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.label = str(path)
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=2.0, check_same_thread=False)
            self.conn.text_factory = _decode
            self.conn.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise SmolsqlError(f"cannot open {path} as SQLite: {exc}") from None

    def close(self) -> None:
        self.conn.close()

    def _names(self) -> list[str]:
        rows = self._read(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
        return [r[0] for r in rows]

    def _read(self, sql: str, params: tuple = ()) -> list:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise SmolsqlError(f"cannot read {self.label}: {_explain(exc)}") from None

    def schema(self, samples: int = 0) -> Schema:
        tables = []
        for name in self._names():
            quoted = quote_identifier(name)
            info = self._read(f"PRAGMA table_info({quoted})")
            pk_count = sum(1 for r in info if r[5])
            columns = []
            for _cid, col, ctype, _notnull, _default, pk in info:
                values = self.sample_values(name, col, samples) if samples else ()
                columns.append(
                    Column(col, (ctype or "").upper(), bool(pk) and pk_count == 1, values)
                )
            fks: dict[int, list] = {}
            for row in self._read(f"PRAGMA foreign_key_list({quoted})"):
                fks.setdefault(row[0], []).append(row)
            foreign = tuple(
                ForeignKey(
                    tuple(r[3] for r in group),
                    group[0][2],
                    tuple(r[4] for r in group if r[4] is not None),
                )
                for group in fks.values()
            )
            tables.append(Table(name, tuple(columns), foreign))
        return Schema(tuple(tables), self.dialect)

    def _execute(self, sql: str, max_rows: int, timeout_s: float):
        try:
            with time_limit(self.conn, timeout_s):
                cursor = self.conn.execute(sql)
                rows = cursor.fetchmany(max_rows + 1)
            return tuple(d[0] for d in cursor.description or ()), rows
        except (sqlite3.Error, sqlite3.Warning) as exc:
            if was_interrupted(exc):
                raise SmolsqlError(timeout_message(timeout_s)) from None
            raise SmolsqlError(f"the database refused the query: {_explain(exc)}") from None
