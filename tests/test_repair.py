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
