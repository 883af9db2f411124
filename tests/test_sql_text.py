from __future__ import annotations

import pytest

from smolsql.prompt import END_OF_TURN, build_completion, build_prompt, extract_sql, prompt_prefix
from smolsql.sql.text import parses, pretty_sql, tidy_sql

EXTRACT_CASES = [
    ("SELECT count(*) FROM singer<|im_end|>", "SELECT count(*) FROM singer"),
    ("SELECT a FROM t;", "SELECT a FROM t"),
    ("```sql\nSELECT a FROM t\n```", "SELECT a FROM t"),
    ("Sure! Here it is:\n```sql\nSELECT a\nFROM t;\n```\nIt lists a.", "SELECT a\nFROM t"),
    ("SELECT a FROM t\nThis query returns every a.", "SELECT a FROM t"),
    ("SELECT a FROM t; DROP TABLE t", "SELECT a FROM t"),
    ("SELECT 'x;y' FROM t; SELECT 2", "SELECT 'x;y' FROM t"),
    ("The answer: select name from singer where age > 3", "select name from singer where age > 3"),
    ("SELECT a FROM t\n\nSELECT b FROM u", "SELECT a FROM t"),
    ("SELECT a\nFROM t\nWHERE b = 1\nORDER BY a", "SELECT a\nFROM t\nWHERE b = 1\nORDER BY a"),
    ("WITH x AS (SELECT 1 AS v) SELECT v FROM x", "WITH x AS (SELECT 1 AS v) SELECT v FROM x"),
    ("SELECT a FROM t<|im_end|>\n<|im_start|>user\nmore", "SELECT a FROM t"),
    ("I don't know.", ""),
    ("", ""),
]


@pytest.mark.parametrize(("completion", "expected"), EXTRACT_CASES)
def test_extract_sql(completion: str, expected: str) -> None:
    assert extract_sql(completion) == expected


@pytest.mark.parametrize(
    ("sql", "dialect", "ok"),
    [
        ("SELECT 1", "sqlite", True),
        ("SELECT FROM WHERE", "sqlite", False),
        ("SELECT 1; SELECT 2", "sqlite", False),
        ("", "sqlite", False),
        ("SELECT a::INT FROM t", "postgres", True),
    ],
)
def test_parses(sql: str, dialect: str, ok: bool) -> None:
    assert parses(sql, dialect) is ok


def test_pretty_and_transpile() -> None:
    assert pretty_sql("select a from t limit 2") == "SELECT\n  a\nFROM t\nLIMIT 2"
    assert "TOP 2" in pretty_sql("SELECT a FROM t LIMIT 2", "sqlite", to="tsql")
    assert pretty_sql("not sql at all (") == "not sql at all ("


def test_prompt_puts_schema_first_so_questions_share_a_prefix() -> None:
    schema = "CREATE TABLE t (a INT);"
    p1, p2 = build_prompt("q one?", schema), build_prompt("q two?", schema)
    prefix = prompt_prefix(schema)
    assert p1.startswith(prefix) and p2.startswith(prefix)
    assert schema in prefix and "q one?" not in prefix
    assert "PostgreSQL" in build_prompt("q", schema, "postgres")


def test_completion_ends_with_the_end_of_turn_marker() -> None:
    assert build_completion(" SELECT 1; ") == "SELECT 1" + END_OF_TURN


TIDY_CASES = [
    ("SELECT name ,  age FROM head WHERE age  >  56", "SELECT name, age FROM head WHERE age > 56"),
    ("SELECT count(*) FROM t", "SELECT count(*) FROM t"),
    ("SELECT max( age ) ,\n  min(age)\nFROM t", "SELECT max(age), min(age) FROM t"),
    ("SELECT a FROM t WHERE b  =  'x  ,  y'", "SELECT a FROM t WHERE b = 'x  ,  y'"),
    (
        'SELECT "my  col" FROM t AS T1 JOIN u AS T2 ON T1.id  =  T2.id',
        'SELECT "my  col" FROM t AS T1 JOIN u AS T2 ON T1.id = T2.id',
    ),
    ("SELECT a  -  -1 FROM t", "SELECT a - -1 FROM t"),
    ("SELECT a  -- why\nFROM t", "SELECT a  -- why\nFROM t"),  # comments: left alone
    ("SELECT 'unterminated", "SELECT 'unterminated"),
    ("", ""),
]


@pytest.mark.parametrize(("sql", "expected"), TIDY_CASES)
def test_tidy_sql(sql: str, expected: str) -> None:
    assert tidy_sql(sql) == expected


@pytest.mark.parametrize(
    ("name", "dialect", "always", "expected"),
    [
        ("name", "sqlite", True, '"name"'),
        ('odd"name', "sqlite", True, '"odd""name"'),  # escaped, not broken out of
        ('odd"name', "duckdb", True, '"odd""name"'),
        ("with space", "mysql", True, "`with space`"),
        ("name", "sqlite", False, "name"),  # the prompt's schema keeps plain names plain
        ("with space", "sqlite", False, '"with space"'),
        ("name", "postgresql", True, '"name"'),  # an alias sqlglot spells otherwise
    ],
)
def test_quote_identifier(name: str, dialect: str, always: bool, expected: str) -> None:
    from smolsql.sql.text import quote_identifier

    assert quote_identifier(name, dialect, always) == expected


@pytest.mark.parametrize(
    ("spelling", "name", "title"),
    [
        ("sqlite", "sqlite", "SQLite"),
        ("PostgreSQL", "postgres", "PostgreSQL"),  # a data file's spelling
        ("mssql", "tsql", "SQL Server"),  # SQLAlchemy's
        ("mariadb", "mysql", "MySQL"),
        ("clickhouse", "clickhouse", "clickhouse"),  # sqlglot knows it; the table does not
    ],
)
def test_one_dialect_table(spelling: str, name: str, title: str) -> None:
    from smolsql.sql.dialects import dialect_title
    from smolsql.sql.text import dialect_name

    assert dialect_name(spelling) == name
    assert dialect_title(spelling) == title


def test_an_unknown_dialect_is_a_clear_error() -> None:
    from smolsql.sql.text import InvalidSQL, dialect_name

    with pytest.raises(InvalidSQL, match="unknown SQL dialect 'klingon'"):
        dialect_name("klingon")


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("sqlite", 'SELECT DISTINCT "a b" FROM "t" WHERE NOT "a b" IS NULL LIMIT 3'),
        ("tsql", "SELECT DISTINCT TOP 3 [a b] FROM [t] WHERE NOT [a b] IS NULL"),
        ("mysql", "SELECT DISTINCT `a b` FROM `t` WHERE NOT `a b` IS NULL LIMIT 3"),
    ],
)
def test_distinct_values_sql_speaks_each_dialect(dialect: str, expected: str) -> None:
    from smolsql.sql.text import distinct_values_sql

    assert distinct_values_sql("t", "a b", 3, dialect) == expected
