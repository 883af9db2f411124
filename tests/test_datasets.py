from __future__ import annotations

import json
from pathlib import Path

import pytest

from smolsql.data.loaders import Columns, load_examples, rows_to_examples
from smolsql.data.sample import SCRIPT, build_sqlite
from smolsql.errors import SmolsqlError

GRETEL_ROWS = [
    {
        "id": 7,
        "domain": "retail",
        "sql_complexity": "aggregation",
        "sql_prompt": "Total sales in the North?",
        "sql_context": "CREATE TABLE sales (id INT, region VARCHAR(10), amount INT); "
        "INSERT INTO sales (id, region, amount) VALUES (1, 'North', 5), (2, 'South', 3);",
        "sql": "SELECT SUM(amount) FROM sales WHERE region = 'North';",
    }
]


@pytest.fixture
def spider_folder(tmp_path: Path) -> Path:
    build_sqlite(SCRIPT, tmp_path / "database" / "shop" / "shop.sqlite")
    questions = [
        {"db_id": "shop", "question": "How many artists?", "query": "SELECT count(*) FROM artist"},
        {"db_id": "shop", "question": "List genres.", "query": "SELECT DISTINCT genre FROM album"},
    ]
    (tmp_path / "dev.json").write_text(json.dumps(questions))
    return tmp_path


def test_spider_folder(spider_folder: Path) -> None:
    examples = load_examples(str(spider_folder))
    assert [e.question for e in examples] == ["How many artists?", "List genres."]
    assert examples[0].schema == examples[1].schema  # one schema per database, shared
    assert examples[0].schema.startswith("CREATE TABLE artist (artist_id INTEGER PRIMARY KEY")
    assert examples[0].meta == {"db_id": "shop"} and Path(examples[0].db_path).exists()
    assert len(load_examples(str(spider_folder / "dev.json"), limit=1)) == 1


def test_gretel_rows_render_context_and_keep_it_for_execution() -> None:
    (ex,) = rows_to_examples(GRETEL_ROWS)
    assert ex.schema == (
        "CREATE TABLE sales (id INT, region VARCHAR(10), amount INT);\n"
        "-- e.g. region: 'North', 'South'"
    )
    assert ex.setup_sql == GRETEL_ROWS[0]["sql_context"]
    assert ex.meta == {"id": 7, "domain": "retail", "sql_complexity": "aggregation"}
    assert ex.id == "7"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_user_files_with_their_own_column_names(tmp_path: Path, suffix: str) -> None:
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet

    rows = [{"q": "How many?", "query": "SELECT count(*) FROM t", "ddl": "CREATE TABLE t (a INT)"}]
    path = tmp_path / f"mine{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows))
    elif suffix == ".csv":
        pyarrow.csv.write_csv(pa.Table.from_pylist(rows), path)
    else:
        pyarrow.parquet.write_table(pa.Table.from_pylist(rows), path)
    from smolsql.data.loaders import load_table_file

    (ex,) = load_table_file(path, Columns(question="q", sql="query", context="ddl"))
    assert (ex.question, ex.sql, ex.schema) == (
        "How many?",
        rows[0]["query"],
        "CREATE TABLE t (a INT);",
    )


def test_wrong_column_names_say_which_exist(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"text": "q", "sql": "SELECT 1"}))
    with pytest.raises(
        SmolsqlError, match=r"no column 'sql_prompt'; columns are \['sql', 'text'\]"
    ):
        load_examples(str(path))


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.jsonl", "data file not found"), ("x.txt", "expected .jsonl, .parquet or .csv")],
)
def test_bad_sources(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hi")
    with pytest.raises(SmolsqlError, match=message):
        load_examples(str(tmp_path / name))
