"""Checks on generated SQL short of running it, as (sql, expected problems) tables."""

from __future__ import annotations

import pytest

from smolsql.ask import find_problems
from smolsql.schema import parse_ddl

SCHEMA = parse_ddl(
    "CREATE TABLE customer (customer_id INT PRIMARY KEY, name TEXT, city TEXT);"
    "CREATE TABLE purchase (purchase_id INT, customer_id INT, quantity INT);"
)

CASES = [
    ("SELECT name FROM customer WHERE city = 'Lisbon'", ()),
    ('SELECT name FROM customer WHERE city = "Lisbon"', ()),  # SQLite: a string, not a column
    ("SELECT c.name FROM customer AS c JOIN purchase AS p ON c.customer_id = p.customer_id", ()),
    ("WITH big AS (SELECT customer_id FROM purchase) SELECT * FROM big", ()),
    ("SELECT count(*) AS n FROM purchase ORDER BY n", ()),
    ("WITH t(n) AS (SELECT count(*) FROM purchase) SELECT n FROM t", ()),  # a column list
    ("SELECT s.k FROM (SELECT customer_id FROM purchase) AS s(k)", ()),
    ("WITH t(n) AS (SELECT count(*) FROM purchase) SELECT m FROM t", ("unknown column m",)),
    ("SELECT name FROM clients", ("unknown table clients",)),
    ("SELECT email FROM customer", ("unknown column email",)),
    ("SELECT c.email FROM customer AS c", ("unknown column email",)),
    ("SELECT name FROM", ("not valid sqlite SQL",)),
    ("", ("the model's answer holds no SQL",)),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_find_problems(sql: str, expected: tuple[str, ...]) -> None:
    problems = find_problems(sql, SCHEMA)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start)


def test_quoted_names_are_columns_outside_sqlite() -> None:
    pg = parse_ddl("CREATE TABLE customer (name TEXT, city TEXT)", "postgres")
    assert find_problems('SELECT name FROM customer WHERE city = "Lisbon"', pg) == (
        "unknown column Lisbon",
    )
