from __future__ import annotations

import json
from pathlib import Path

import pytest

from smolsql.cli import main
from smolsql.data.loaders import (
    Columns,
    load_examples,
    load_sources,
    read_database_names,
    rows_to_examples,
    select_databases,
)
from smolsql.data.sample import SCRIPT, build_sqlite
from smolsql.errors import SmolsqlError
from smolsql.train.config import resolve
from smolsql.train.sft import split_examples

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


@pytest.fixture
def three_sources(spider_folder: Path) -> dict[str, Path]:
    """Spider-like sources over two databases: a file, its rewording, and one kept elsewhere."""
    build_sqlite(SCRIPT, spider_folder / "database" / "shop2" / "shop2.sqlite")
    other = {
        "db_id": "shop2",
        "question": "How many albums?",
        "query": "SELECT count(*) FROM album",
    }
    train = [*json.loads((spider_folder / "dev.json").read_text()), other]
    reworded = [dict(train[0], question="Number of musicians?"), train[1], train[2]]
    (spider_folder / "train.json").write_text(json.dumps(train))
    (spider_folder / "train_syn.json").write_text(json.dumps(reworded))
    elsewhere = spider_folder / "cosql"
    elsewhere.mkdir()
    query = "SELECT genre, count(*) FROM album GROUP BY genre"
    chat = [{"db_id": "shop", "question": "Albums per genre?", "query": query}]
    (elsewhere / "train.json").write_text(json.dumps(chat))
    return {
        "spider": spider_folder / "train.json",
        "syn": spider_folder / "train_syn.json",
        "cosql": elsewhere / "train.json",
        "databases": spider_folder / "database",
    }


def test_sources_are_concatenated_each_distinct_pair_once(three_sources: dict[str, Path]) -> None:
    entries = [
        str(three_sources["spider"]),
        str(three_sources["syn"]),
        {"path": str(three_sources["cosql"]), "databases": str(three_sources["databases"])},
    ]
    examples = load_sources(entries)
    assert [e.question for e in examples] == [
        "How many artists?", "List genres.", "How many albums?",  # Spider
        "Number of musicians?",  # Spider-Syn's one reworded question; its other two are Spider's
        "Albums per genre?",  # on Spider's database, from another folder
    ]  # fmt: skip
    assert Path(examples[-1].db_path).exists()
    assert examples[-1].schema == examples[0].schema
    kept = load_sources(entries, exclude_databases={"shop"})
    assert [e.question for e in kept] == ["How many albums?"]
    assert len(load_sources(entries, limit=2)) == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [({"path": "x.json", "weight": 2}, "unknown key"), (3, "a data entry is a path")],
)
def test_a_bad_data_entry_is_named(entry: object, message: str) -> None:
    with pytest.raises(SmolsqlError, match=message):
        load_sources([entry])


def test_database_lists_and_selecting_by_them(three_sources, tmp_path: Path) -> None:
    listed = tmp_path / "heldout.txt"
    listed.write_text("# the held-out set\nshop2  # one table chain\n\n")
    assert read_database_names(listed) == {"shop2"}
    examples = load_sources(str(three_sources["spider"]))
    assert [e.question for e in select_databases(examples, only={"shop2"})] == ["How many albums?"]
    assert len(select_databases(examples, exclude={"shop2"})) == 2
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(SmolsqlError, match="names no database"):
        read_database_names(tmp_path / "empty.txt")


def test_training_mixes_the_listed_sources_without_the_held_out_databases(
    three_sources: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "heldout.txt").write_text("shop2\n")
    config = tmp_path / "mix.yaml"
    config.write_text(
        f"data:\n  - {three_sources['spider']}\n  - {three_sources['syn']}\n"
        f"  - path: {three_sources['cosql']}\n    databases: {three_sources['databases']}\n"
        f"exclude_databases: {tmp_path / 'heldout.txt'}\neval_fraction: 0\n"
    )
    train, held_out = split_examples(resolve(str(config), {}))
    assert sorted(e.question for e in train) == [
        "Albums per genre?", "How many artists?", "List genres.", "Number of musicians?"
    ]  # fmt: skip
    assert held_out == []


def test_predict_and_data_take_only_the_listed_databases(three_sources, tmp_path: Path) -> None:
    (tmp_path / "heldout.txt").write_text("shop2\n")
    out = tmp_path / "heldout.jsonl"
    args = ["data", "--data", str(three_sources["spider"]), "--out", str(out)]
    assert main([*args, "--only-databases", str(tmp_path / "heldout.txt")]) == 0
    assert [json.loads(line)["question"] for line in out.open()] == ["How many albums?"]
    (tmp_path / "none.txt").write_text("no_such_db\n")
    assert main([*args, "--only-databases", str(tmp_path / "none.txt")]) == 2
