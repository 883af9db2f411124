"""The CLI end to end on a real database, with a scripted backend in place of a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.cli import main

FAKE = ["--backend", "fakes:scripted"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_pretty_sql(capsys, sample_db: Path) -> None:
    code, out, err = run(
        capsys, "ask", "How many artists are there?", "--db", str(sample_db), *FAKE
    )
    assert code == 0, err
    assert out == "SELECT\n  COUNT(*)\nFROM artist;\n"


def test_ask_run_prints_rows(capsys, sample_db: Path) -> None:
    code, out, _ = run(
        capsys, "ask", "Who lives in Lisbon?", "--db", str(sample_db), "--run", *FAKE
    )
    assert code == 0
    assert out.splitlines()[-5:] == [
        "name",
        "-----------",
        "Ines Duarte",
        "Sofia Rossi",
        "(2 rows)",
    ]


def test_ask_transpiles_to_another_dialect(capsys, sample_db: Path) -> None:
    code, out, _ = run(
        capsys, "ask", "How many artists?", "--db", str(sample_db), "--dialect", "tsql", *FAKE
    )
    assert code == 0 and "COUNT_BIG(*)" in out


def test_ask_from_a_schema_file_without_database(capsys, tmp_path: Path) -> None:
    ddl = tmp_path / "schema.sql"
    ddl.write_text("CREATE TABLE artist (artist_id INT PRIMARY KEY, name TEXT);")
    code, out, _ = run(capsys, "ask", "How many artists?", "--schema", str(ddl), *FAKE)
    assert code == 0 and "FROM artist" in out


def test_unknown_tables_are_flagged(capsys, sample_db: Path) -> None:
    code, _, err = run(capsys, "ask", "any ghost here?", "--db", str(sample_db), *FAKE)
    assert code == 0
    assert "warning: unknown table ghosts" in err and "warning: unknown column spooky" in err


def test_the_sample_database_by_name(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path))
    code, out, _ = run(
        capsys, "ask", "How many artists are there?", "--db", "sample", "--run", *FAKE
    )
    assert code == 0 and out.rstrip().endswith("5\n(1 row)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   ", "--db", "{db}"], "the question is empty"),
        (["ask", "x" * 5000, "--db", "{db}"], "at most 2000"),
        (["ask", "q?", "--db", "{tmp}/missing.sqlite"], "database not found"),
        (["ask", "q?", "--db", "{tmp}/notes.txt"], "not a SQLite or DuckDB database"),
        (["ask", "q?"], "exactly one of --db"),
        (["ask", "q?", "--schema", "{tmp}/none.sql"], "schema file not found"),
        (["ask", "q?", "--schema", "{tmp}/notes.txt", "--run"], "--run needs --db"),
        (["ask", "q?", "--db", "{db}", "--model", "not-a-model"], "unknown model"),
        (["ask", "q?", "--db", "{db}", "--backend", "nope"], "unknown backend"),
        (["ask", "prose please", "--db", "{db}", "--backend", "fakes:scripted"], "gave no SQL"),
        (["schema", "--db", "{tmp}/notes.txt"], "not a SQLite or DuckDB"),
        (["ask", "q?", "--db", "{db}", "--candidates", "0"], "from 1 to 32, not 0"),
        (["ask", "q?", "--db", "{db}", "--candidates", "1000"], "from 1 to 32, not 1000"),
        (["ask", "q?", "--db", "{db}", "--top-p", "0"], "top_p must be in (0, 1]"),
        (["predict", "--data", "{db}", "--out", "{tmp}/r", "--candidates", "0"], "not 0"),
        (["ask", "q?", "--db", "{db}", "--likelihood-weight", "-1"], "must be 0 or more"),
        (["ask", "q?", "--db", "{db}", "--solved", "{tmp}/none.json"], "examples file not found"),
        (["ask", "q?", "--db", "{db}", "--solved", "{tmp}/notes.txt"], "not JSON or JSON Lines"),
        (["serve", "--solved", "{tmp}/notes.txt"], "write DATABASE_NAME=FILE"),
        (
            ["serve", "--solved", "sample={tmp}/a.json", "--solved", "sample={tmp}/b.json"],
            "two --solved files for database 'sample'",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(capsys, sample_db: Path, tmp_path, argv, message) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    argv = [a.format(db=sample_db, tmp=tmp_path) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.startswith("smolsql: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""


def test_a_missing_optional_package_is_one_line_naming_it(sample_db: Path) -> None:
    """As in the container image, which serves with llama.cpp and leaves transformers out."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['transformers'] = None; "
        "from smolsql.cli import main; "
        f"sys.exit(main(['ask', 'q?', '--db', {str(sample_db)!r}, '--backend', 'transformers']))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "smolsql: error: 'ask' needs the Python package 'transformers', which is not installed "
        "here (pip install transformers)"
    )


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path: Path) -> None:
    """`smolsql compare ... | head`: the pipe closes before smolsql has written."""
    import json
    import subprocess
    import sys

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"n": 1, "execution_accuracy": 1.0}))
    script = f"import sys; from smolsql.cli import main; sys.exit(main(['compare', {str(run)!r}]))"
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    child.stdout.close()  # the reader is gone before the first line
    stderr = child.stderr.read()
    assert child.wait() == 141
    assert stderr == ""


@pytest.mark.parametrize(
    ("question", "shown", "message"),
    [
        ("drop it", "DROP TABLE artist;", "refused by rule 'read_only'"),
        ("any ghost?", "SELECT", "the database refused the query: no such table: ghosts"),
    ],
)
def test_run_failures_still_show_the_sql(
    capsys, sample_db: Path, question: str, shown: str, message: str
) -> None:
    code, out, err = run(capsys, "ask", question, "--db", str(sample_db), "--run", *FAKE)
    assert code == 2
    assert out.startswith(shown)  # the SQL is shown all the same
    last = err.splitlines()[-1]
    assert last.startswith("smolsql: error: ") and message in last


def test_schema_command(capsys, sample_db: Path) -> None:
    code, out, _ = run(capsys, "schema", "--db", str(sample_db), "--samples", "2")
    assert code == 0
    assert "-- e.g. title: 'Harbour Lights', 'Paper Boats'; genre: 'Folk', 'Pop'" in out


def test_export_writes_a_merged_folder_once(capsys, tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    code, said, _ = run(capsys, "export", str(out), "--model", str(tiny_model_dir))
    assert code == 0 and said.startswith("wrote ") and (out / "config.json").exists()
    code, _, err = run(capsys, "export", str(out), "--model", str(tiny_model_dir))
    assert code == 2 and "not empty" in err


@pytest.mark.parametrize(
    ("link", "tables", "linked"),
    [("on", 4, True), ("off", 4, False), ("auto", 4, False), ("auto", 5, True), ("off", 5, False)],
)
def test_ask_and_predict_link_the_schema_when_asked(
    capsys, sample_db: Path, tmp_path, link, tables, linked
):
    import json
    import sqlite3

    if tables == 5:  # the shop's four tables and one more: long enough for auto
        with sqlite3.connect(sample_db) as connection:
            connection.execute("CREATE TABLE label (label_id INTEGER PRIMARY KEY, title TEXT)")
    code, out, err = run(
        capsys, "ask", "How many artists?", "--db", str(sample_db), "--link-schema", link, *FAKE
    )
    assert code == 0 and "FROM artist" in out
    assert (f"note: schema linking: the prompt shows 1 of {tables}" in err) == linked
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({"question": "How many artists?", "db_path": str(sample_db)}))
    argv = ["predict", "--data", str(data), "--out", str(tmp_path / "run"), "--link-schema", link]
    code, _, err = run(capsys, *argv, *FAKE)
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "predictions.jsonl").read_text())
    shown = record["example"]["linked_schema"]
    assert (shown.startswith("CREATE TABLE artist") and "album" not in shown) == linked
    assert "CREATE TABLE album" in record["example"]["schema"] or link == "off"


def test_link_schema_takes_auto_on_or_off(capsys, sample_db: Path) -> None:
    with pytest.raises(SystemExit):
        main(["ask", "How many artists?", "--db", str(sample_db), "--link-schema", "maybe"])
    assert "invalid choice: 'maybe'" in capsys.readouterr().err
