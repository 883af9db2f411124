"""Connections to the databases people ask about, all opened read-only.

`open_database` takes a file path (SQLite or DuckDB, told apart by their
headers, never by the file name) or a SQLAlchemy URL.
"""

from __future__ import annotations

from pathlib import Path

from smolsql.db.base import DEFAULT_LIMITS, Database, Limits, Result
from smolsql.errors import SmolsqlError

__all__ = ["DEFAULT_LIMITS", "Database", "Limits", "Result", "open_database"]

SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # at byte offset 8


def detect_kind(path: Path) -> str:
    """'sqlite' or 'duckdb' from the file's header; a clear error for anything else."""
    if not path.exists():
        raise SmolsqlError(f"database not found: {path}")
    if path.is_dir():
        raise SmolsqlError(f"{path} is a folder, not a database file")
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise SmolsqlError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    if not head:
        raise SmolsqlError(f"{path} is empty, not a database")
    raise SmolsqlError(f"{path} is not a SQLite or DuckDB database")


def open_database(target: str | Path) -> Database:
    """Open a database file or URL read-only."""
    text = str(target)
    if "://" in text:
        from smolsql.db.sqlalchemy import SQLAlchemyDatabase

        return SQLAlchemyDatabase(text)
    path = Path(text).expanduser()
    if detect_kind(path) == "duckdb":
        from smolsql.db.duckdb import DuckDBDatabase

        return DuckDBDatabase(path)
    from smolsql.db.sqlite import SQLiteDatabase

    return SQLiteDatabase(path)
