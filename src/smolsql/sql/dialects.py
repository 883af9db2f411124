"""The SQL dialects smolsql names: sqlglot's name, the prompt's title, other spellings.

One table for every place a dialect name arrives or leaves: data files (`postgresql`),
SQLAlchemy's dialect names (`mssql`), the prompt ("You write SQL Server queries."). Any
other dialect sqlglot knows works too, under sqlglot's own name (`sql.text.dialect_name`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str  # sqlglot's
    title: str  # how the prompt names it
    aliases: tuple[str, ...] = ()  # other spellings: data files, SQLAlchemy dialect names


DIALECTS = (
    Dialect("sqlite", "SQLite", ("sqlite3",)),
    Dialect("duckdb", "DuckDB"),
    Dialect("postgres", "PostgreSQL", ("postgresql", "pg")),
    Dialect("mysql", "MySQL", ("mariadb",)),
    Dialect("tsql", "SQL Server", ("mssql", "sqlserver", "sql server")),
    Dialect("oracle", "Oracle"),
    Dialect("bigquery", "BigQuery"),
    Dialect("snowflake", "Snowflake"),
)
_BY_SPELLING = {spelling: d for d in DIALECTS for spelling in (d.name, *d.aliases)}


def spelling(name: str) -> str:
    """A dialect name as the table and sqlglot key it: trimmed, lower case, sqlite if empty."""
    return (name or "sqlite").strip().lower()


def lookup(name: str) -> Dialect | None:
    """The table's entry for any of a dialect's spellings, case and spaces aside."""
    return _BY_SPELLING.get(spelling(name))


def dialect_title(name: str) -> str:
    """The dialect as the prompt names it ("SQLite"); as given for the others."""
    known = lookup(name)
    return known.title if known else name
