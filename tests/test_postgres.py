"""The SQLAlchemy path against a real PostgreSQL server on loopback.

`.ci/run` starts one with scripts/start-postgres.sh and sets SMOLSQL_TEST_POSTGRES_URL;
without it these tests skip, saying so.
"""

from __future__ import annotations

import os
import uuid

import pytest

from smolsql.db import Limits, open_database
from smolsql.errors import SmolsqlError
from smolsql.sql.guard import Refused
from smolsql.sql.run import run_sql

URL = os.environ.get("SMOLSQL_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="no PostgreSQL server: run scripts/start-postgres.sh, set its URL in "
    "SMOLSQL_TEST_POSTGRES_URL",
)


@pytest.fixture
def table() -> str:
    """A fresh table of three singers, written by the test's own (writable) connection."""
    import sqlalchemy

    from smolsql.db.sqlalchemy import _with_installed_driver

    name = f"singer_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(_with_installed_driver(URL or ""))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id INT PRIMARY KEY, name TEXT, age INT)")
        conn.exec_driver_sql(
            f"INSERT INTO {name} VALUES (1, 'Ana', 30), (2, 'Bo', 41), (3, 'Cy', 25)"
        )
    yield name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {name}")
    engine.dispose()


def snapshot(table: str) -> list:
    with open_database(URL or "") as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY id").rows


def test_schema_and_a_read_only_query(table: str) -> None:
    with open_database(URL or "") as db:
        assert db.dialect == "postgres"
        (found,) = [t for t in db.schema().tables if t.name == table]
        assert [c.name for c in found.columns] == ["id", "name", "age"] and found.columns[
            0
        ].primary_key
        result = run_sql(db, f"SELECT name FROM {table} WHERE age > 28 ORDER BY name")
    assert result.rows == [("Ana",), ("Bo",)]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM {t}",
        "UPDATE {t} SET age = 0",
        "DROP TABLE {t}",
        "CREATE TABLE {t}_x (a INT)",
        "INSERT INTO {t} VALUES (9, 'Eve', 1)",
        "WITH d AS (DELETE FROM {t} RETURNING *) SELECT * FROM d",
    ],
)
def test_the_connection_refuses_writes_even_past_the_guard(table: str, sql: str) -> None:
    before = snapshot(table)
    with open_database(URL or "") as db, pytest.raises(SmolsqlError, match="read-only"):
        db.execute(sql.format(t=table))  # straight to the connection: no guard in front
    assert snapshot(table) == before


def test_statement_timeout_and_row_limit(table: str) -> None:
    with open_database(URL or "") as db:
        with pytest.raises(SmolsqlError, match=r"ran longer than 0\.5 s"):
            db.execute(
                "SELECT count(*) FROM generate_series(1, 10000000000)", Limits(timeout_s=0.5)
            )
        result = db.execute("SELECT * FROM generate_series(1, 1000)", Limits(max_rows=10))
    assert len(result.rows) == 10 and result.truncated


@pytest.mark.parametrize(
    "sql", ["SELECT pg_sleep(5)", "SELECT pg_read_file('/etc/passwd')", "SELECT * INTO x FROM {t}"]
)
def test_the_guard_speaks_postgres(table: str, sql: str) -> None:
    with open_database(URL or "") as db, pytest.raises(Refused):
        run_sql(db, sql.format(t=table))
