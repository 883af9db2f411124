"""Real SQLite and DuckDB files: detection, schema, read-only, limits."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from smolsql.db import Limits, open_database
from smolsql.errors import SmolsqlError
from smolsql.schema import render_schema

SHOP_SCHEMA = (
    "CREATE TABLE artist (artist_id INTEGER PRIMARY KEY, name TEXT, country TEXT, "
    "formed_year INTEGER);\n"
    "CREATE TABLE album (album_id INTEGER PRIMARY KEY, title TEXT, artist_id INTEGER, "
    "release_year INTEGER, genre TEXT, price REAL, "
    "FOREIGN KEY (artist_id) REFERENCES artist(artist_id));"
)


def test_sqlite_schema_has_keys_in_table_order(sample_db: Path) -> None:
    with open_database(sample_db) as db:
        text = render_schema(db.schema()).text
    assert text.startswith(SHOP_SCHEMA)
    assert text.count("CREATE TABLE") == 4


def test_sqlite_samples(sample_db: Path) -> None:
    with open_database(sample_db) as db:
        genre = next(c for c in db.schema(samples=2).table("album").columns if c.name == "genre")
    assert genre.samples == ("'Folk'", "'Pop'")


def _odd_names_db(tmp_path: Path, kind: str) -> str:
    """One table and column whose names need quoting, with repeats and NULLs."""
    rows = [("b",), ("a",), (None,), ("a",), ("it's",)]
    if kind == "duckdb":
        import duckdb

        path = tmp_path / "odd.duckdb"
        conn = duckdb.connect(str(path))
    else:
        path = tmp_path / "odd.sqlite"
        conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "my ""table" ("the col" TEXT)')
    conn.executemany('INSERT INTO "my ""table" VALUES (?)', rows)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}" if kind == "sqlalchemy" else str(path)


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "sqlalchemy"])
def test_every_backend_samples_distinct_values_the_same_way(tmp_path: Path, kind: str) -> None:
    with open_database(_odd_names_db(tmp_path, kind)) as db:
        values = db.sample_values('my "table', "the col", 5)
        (column,) = db.schema(samples=2).table('my "table').columns
    assert sorted(values) == ["'a'", "'b'", "'it''s'"]  # distinct, no NULL, as SQL literals
    assert len(column.samples) == 2 and set(column.samples) <= set(values)


def test_sqlite_is_read_only_and_the_file_is_unchanged(sample_db: Path) -> None:
    before = hashlib.sha256(sample_db.read_bytes()).hexdigest()
    with open_database(sample_db) as db:
        for sql in ("DELETE FROM artist", "CREATE TABLE x (a INT)", "PRAGMA user_version = 3"):
            with pytest.raises(SmolsqlError, match="refused"):
                db.execute(sql)
    assert hashlib.sha256(sample_db.read_bytes()).hexdigest() == before


def test_row_limit_and_time_limit(sample_db: Path) -> None:
    with open_database(sample_db) as db:
        result = db.execute("SELECT * FROM album ORDER BY album_id", Limits(max_rows=3))
        assert result.truncated and [r[0] for r in result.rows] == [1, 2, 3]
        assert not db.execute("SELECT * FROM album", Limits(max_rows=8)).truncated
        bomb = (
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c"
        )
        with pytest.raises(SmolsqlError, match=r"longer than 0\.3 s"):
            db.execute(bomb, Limits(timeout_s=0.3))
        assert db.execute("SELECT count(*) FROM artist").rows == [(5,)]  # still usable


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_rows": 0}, "row limit must be at least 1"),
        ({"max_rows": 2.5}, "row limit must be a whole number"),
        ({"max_rows": True}, "row limit must be a whole number"),
        ({"timeout_s": 0}, "time limit must be above 0"),
        ({"timeout_s": float("nan")}, "time limit must be above 0"),
    ],
)
def test_bad_limits_are_refused_before_any_query(limits: dict, message: str) -> None:
    with pytest.raises(SmolsqlError, match=message):
        Limits(**limits)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "database not found"),
        (b"", "is empty"),
        (b"name,age\nann,3\n", "not a SQLite or DuckDB database"),
        ("folder", "is a folder"),
    ],
)
def test_things_that_are_no_database(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "x.sqlite"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SmolsqlError, match=message):
        open_database(path)


def test_duckdb_file(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE city (id INTEGER PRIMARY KEY, name VARCHAR)")
        conn.execute("CREATE TABLE person (id INTEGER, city_id INTEGER REFERENCES city(id))")
        conn.execute("INSERT INTO city VALUES (1, 'Oslo'), (2, 'Lima')")
    with open_database(path) as db:  # told apart by header, not by name
        assert db.dialect == "duckdb"
        text = render_schema(db.schema()).text
        assert "CREATE TABLE city (id INTEGER PRIMARY KEY, name VARCHAR);" in text
        assert "FOREIGN KEY (city_id) REFERENCES city(id)" in text
        assert db.execute("SELECT name FROM city ORDER BY id").rows == [("Oslo",), ("Lima",)]
        with pytest.raises(SmolsqlError, match="refused"):
            db.execute("INSERT INTO city VALUES (3, 'Rome')")
        with pytest.raises(SmolsqlError, match="refused"):
            db.execute(f"SELECT * FROM read_csv('{path}')")


def test_sqlalchemy_url(sample_db: Path) -> None:
    with open_database(f"sqlite:///{sample_db}") as db:
        schema = db.schema()
        assert [t.name for t in schema.tables] == ["album", "artist", "customer", "purchase"]
        assert db.execute("SELECT count(*) FROM purchase").rows == [(9,)]
        with pytest.raises(SmolsqlError, match="refused"):
            db.execute("DELETE FROM purchase")
    conn = sqlite3.connect(sample_db)
    assert conn.execute("SELECT count(*) FROM purchase").fetchone() == (9,)


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(SmolsqlError, match=r"cannot use database URL|driver"):
        open_database("nosuchdb://user@host/x")
