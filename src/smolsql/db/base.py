"""What every database connection offers: its schema, and read-only queries with limits."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass
from typing import Any

from smolsql.errors import SmolsqlError
from smolsql.schema import Schema
from smolsql.sql.text import distinct_values_sql


@dataclass(frozen=True)
class Limits:
    """What one query may cost: the rows fetched and the seconds it runs.

    One record travels from the CLI, the service and the app through `ask` and the
    candidates down to `Database.execute`, which enforces it.
    """

    max_rows: int = 1000
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.max_rows, bool) or not isinstance(self.max_rows, int):
            raise SmolsqlError(f"the row limit must be a whole number, not {self.max_rows!r}")
        if self.max_rows < 1:
            raise SmolsqlError("the row limit must be at least 1")
        if not self.timeout_s > 0:
            raise SmolsqlError("the time limit must be above 0 seconds")


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Result:
    """Rows from one query, cut at the row limit (`truncated` says whether it was)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool = False
    elapsed_ms: float = 0.0


class Database(abc.ABC):
    """A connection opened read-only; `execute` enforces a row limit and a time limit."""

    dialect: str = "sqlite"
    label: str = ""

    @abc.abstractmethod
    def schema(self, samples: int = 0) -> Schema:
        """The tables, columns and keys; `samples` distinct values per column when asked."""

    def sample_values(self, table: str, column: str, k: int) -> tuple[str, ...]:
        """Up to k distinct non-null values of a column, as SQL literals: the schema's samples."""
        rows = self._read(distinct_values_sql(table, column, k, self.dialect))
        return tuple(sample_literal(row[0]) for row in rows)

    @abc.abstractmethod
    def _read(self, sql: str, params: tuple = ()) -> list:
        """Rows of one internal query (the schema, samples): no limits, errors as SmolsqlError."""

    @abc.abstractmethod
    def _execute(self, sql: str, max_rows: int, timeout_s: float) -> tuple[tuple[str, ...], list]:
        """Run one statement; return column names and at most max_rows + 1 rows."""

    def execute(self, sql: str, limits: Limits = DEFAULT_LIMITS) -> Result:
        start = time.perf_counter()
        columns, rows = self._execute(sql, limits.max_rows, limits.timeout_s)
        elapsed = (time.perf_counter() - start) * 1000
        return Result(columns, rows[: limits.max_rows], len(rows) > limits.max_rows, elapsed)

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def timeout_message(timeout_s: float) -> str:
    return f"the query ran longer than {timeout_s:g} s and was stopped"


def sample_literal(value: Any, max_chars: int = 40) -> str:
    """A sample value as the SQL literal the model would write."""
    if isinstance(value, bytes):
        return "X'..'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    text = str(value).replace("\n", " ")
    if len(text) > max_chars:
        text = text[: max_chars - 3] + "..."
    return "'" + text.replace("'", "''") + "'"
