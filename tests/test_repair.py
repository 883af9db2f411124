"""Repairing names as a table: (SQL, what it becomes with the sample schema's names)."""

from __future__ import annotations

import pytest

from smolsql.data.sample import SCRIPT
from smolsql.schema import parse_ddl
from smolsql.sql.repair import repair_names

SCHEMA = parse_ddl(SCRIPT.read_text())

CASES = [
    ("SELECT nme FROM artist", "SELECT name FROM artist"),
    ("SELECT title FROM albums", "SELECT title FROM album"),
    ("SELECT T1.nam FROM artists AS T1", "SELECT T1.name FROM artist AS T1"),
    ("SELECT count(*) FROM purchases WHERE quantit > 1",
     "SELECT COUNT(*) FROM purchase WHERE quantity > 1"),
    # a column on the wrong side of a join moves to the one joined table that has it
    ("SELECT T1.name FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id",
     "SELECT T2.name FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id"),
    ("SELECT album.name FROM album JOIN artist ON album.artist_id = artist.artist_id",
     "SELECT artist.name FROM album JOIN artist ON album.artist_id = artist.artist_id"),
    ("SELECT title FROM album WHERE artist_id IN (SELECT T1.artist_id FROM customer AS T1"
     " JOIN artist AS T2 ON T1.name = T2.name)",
     "SELECT title FROM album WHERE artist_id IN ( SELECT T2.artist_id FROM customer AS T1"
     " JOIN artist AS T2 ON T1.name = T2.name )"),  # in a subquery, its own tables
    # name is in both other tables: which one was meant is a guess, so no repair
    ("SELECT T1.name FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id"
     " JOIN purchase AS T3 ON T1.album_id = T3.album_id JOIN customer AS T4"
     " ON T3.customer_id = T4.customer_id", None),
    ("SELECT T1.name FROM album AS T1", None),  # no other table has it
    # in the join's condition the join is wrong: moved, it would join album to itself
    ("SELECT T1.title FROM album AS T1 JOIN artist AS T2 ON T1.album_id = T2.album_id", None),
    ("SELECT name FROM artist", None),  # nothing unknown
    ("SELECT zzzz FROM artist", None),  # nothing close enough
    ('SELECT name FROM customer WHERE city = "Lisbon"', None),  # a string to SQLite
    ("WITH t(x) AS (SELECT 1) SELECT x FROM t", None),  # names the query made itself
    ("SELECT name AS n FROM artist ORDER BY n", None),
    ("not sql at all", None),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_repair_names(sql: str, expected: str | None) -> None:
    repaired = repair_names(sql, SCHEMA)
    assert (repaired and " ".join(repaired.split())) == expected
