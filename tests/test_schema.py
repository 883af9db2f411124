"""Schema reading and rendering, as (input, expected) tables."""

from __future__ import annotations

import pytest

from smolsql.errors import SmolsqlError
from smolsql.schema import Column, Schema, Table, approx_tokens, parse_ddl, render_schema

DDL_CASES = [
    (
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT)",
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT);",
    ),
    (  # table-level keys, composite primary key stays unmarked per column
        "CREATE TABLE a (x INT, y INT, z TEXT, PRIMARY KEY (x, y), "
        "FOREIGN KEY (z) REFERENCES b(w))",
        "CREATE TABLE a (x INT, y INT, z TEXT, FOREIGN KEY (z) REFERENCES b(w));",
    ),
    (  # gretel-style sql_context: CREATE and INSERT mixed; samples come from the INSERTs
        "CREATE TABLE sales (id INT, region VARCHAR(20), amount DECIMAL(10,2)); "
        "INSERT INTO sales (id, region, amount) VALUES (1, 'North', 10.5), (2, 'South', 3);",
        "CREATE TABLE sales (id INT, region VARCHAR(20), amount DECIMAL(10, 2));\n"
        "-- e.g. region: 'North', 'South'",
    ),
    (  # names that need quoting stay quoted
        'CREATE TABLE "order items" ("item id" INT, qty INT)',
        'CREATE TABLE "order items" ("item id" INT, qty INT);',
    ),
    (  # column-level REFERENCES
        "CREATE TABLE c (id INT PRIMARY KEY, p INT REFERENCES parent(id))",
        "CREATE TABLE c (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES parent(id));",
    ),
    (  # one statement sqlglot cannot read does not lose the others
        "CREATE TABLE ok (a INT); THIS IS NOT SQL; CREATE TABLE ok2 (b TEXT);",
        "CREATE TABLE ok (a INT);\nCREATE TABLE ok2 (b TEXT);",
    ),
]


@pytest.mark.parametrize(("ddl", "expected"), DDL_CASES)
def test_parse_and_render_ddl(ddl: str, expected: str) -> None:
    assert render_schema(parse_ddl(ddl)).text == expected


@pytest.mark.parametrize("text", ["", "INSERT INTO t VALUES (1)", "hello world"])
def test_ddl_without_tables_is_an_error(text: str) -> None:
    with pytest.raises(SmolsqlError, match="no CREATE TABLE"):
        parse_ddl(text)


def test_postgres_ddl_reads_in_its_dialect() -> None:
    schema = parse_ddl(
        "CREATE TABLE ev (id SERIAL PRIMARY KEY, at TIMESTAMPTZ, tags TEXT[])", "postgres"
    )
    assert [c.name for c in schema.tables[0].columns] == ["id", "at", "tags"]
    assert schema.tables[0].columns[0].primary_key


def _many_tables(n: int) -> Schema:
    tables = [
        Table(f"t{i}", tuple(Column(f"c{i}_{j}", "INT") for j in range(10))) for i in range(n)
    ]
    tables.append(Table("singer", (Column("singer_id", "INT", True), Column("age", "INT"))))
    return Schema(tuple(tables))


def test_budget_keeps_tables_the_question_names_and_reports_the_rest() -> None:
    schema = _many_tables(40)
    full = render_schema(schema).text
    rendered = render_schema(schema, "How old is the oldest singer?", max_tokens=200)
    assert approx_tokens(rendered.text) <= 200 < approx_tokens(full)
    assert "CREATE TABLE singer" in rendered.text
    kept = rendered.text.count("CREATE TABLE")
    assert kept + len(rendered.dropped_tables) == 41
    assert "singer" not in rendered.dropped_tables


def test_budget_keeps_original_order_and_follows_foreign_keys() -> None:
    schema = parse_ddl(
        "CREATE TABLE filler (" + ", ".join(f"f{i} INT" for i in range(60)) + ");"
        "CREATE TABLE stadium (stadium_id INT PRIMARY KEY, capacity INT);"
        "CREATE TABLE concert (concert_id INT, stadium_id INT, "
        "FOREIGN KEY (stadium_id) REFERENCES stadium(stadium_id));"
    )
    rendered = render_schema(schema, "list every concert", max_tokens=80)
    assert rendered.dropped_tables == ("filler",)
    assert rendered.text.index("stadium (") < rendered.text.index("concert (")


def test_a_table_too_long_alone_keeps_its_key_and_matching_columns() -> None:
    cols = [Column("id", "INT", True)] + [Column(f"col{i}", "TEXT") for i in range(300)]
    cols.append(Column("salary", "REAL"))
    schema = Schema((Table("employee", tuple(cols)),))
    rendered = render_schema(schema, "average salary of employees", max_tokens=50)
    assert rendered.truncated_tables == ("employee",)
    assert "id INT PRIMARY KEY" in rendered.text and "salary REAL" in rendered.text
    assert approx_tokens(rendered.text) <= 50


def test_schema_under_budget_is_untouched() -> None:
    schema = _many_tables(2)
    assert render_schema(schema, "anything", max_tokens=10_000) == render_schema(schema)
