"""Bad input at every door (CLI, API, app): one clear message, and nothing written anywhere."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import ScriptedBackend

from smolsql.cli import main

FAKE = ["--backend", "fakes:scripted"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """An empty working directory: after a refused command it must still be empty."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def wide_db(tmp_path: Path) -> Path:
    """500 tables: far over the prompt's schema budget."""
    path = tmp_path / "wide.sqlite"
    with sqlite3.connect(path) as conn:
        for i in range(500):
            conn.execute(f"CREATE TABLE t{i:03d} (id INTEGER PRIMARY KEY, v{i} TEXT, w{i} REAL)")
        conn.execute("CREATE TABLE artist (artist_id INTEGER PRIMARY KEY, name TEXT)")
    return path


@pytest.fixture
def locked_db(sample_db: Path) -> Iterator[Path]:
    """The sample database while another process holds an exclusive write lock on it."""
    writer = sqlite3.connect(sample_db, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("DELETE FROM purchase")  # uncommitted: readers must not see it either
    yield sample_db
    writer.execute("ROLLBACK")
    writer.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "latin1.sql": "CREATE TABLE caf\xe9 (id INT);".encode("latin-1"),
        "notes.txt": b"just some notes, not a database\n",
        "empty.sqlite": b"",
        "random.bin": bytes(range(256)) * 8,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "", "--db", "{sample}"], "the question is empty"),
        (["ask", "   \n ", "--db", "{sample}"], "the question is empty"),
        (["ask", "x" * 5000, "--db", "{sample}"], "at most 2000"),
        (["ask", "how\x00many", "--db", "{sample}"], "binary data"),
        (["ask", "q?", "--db", "{tmp}/nope.sqlite"], "database not found"),
        (["ask", "q?", "--db", "{tmp}"], "is a folder"),
        (["ask", "q?", "--db", "{tmp}/notes.txt"], "not a SQLite or DuckDB database"),
        (["ask", "q?", "--db", "{tmp}/empty.sqlite"], "is empty"),
        (["ask", "q?", "--db", "{tmp}/random.bin"], "not a SQLite or DuckDB database"),
        (["ask", "q?", "--schema", "{tmp}/latin1.sql"], "not UTF-8"),
        (["ask", "q?", "--db", "nosuchdriver://x/y"], "cannot use database URL"),
        (["run", "DELETE FROM artist", "--db", "{sample}"], "refused by rule 'read_only'"),
        (["run", "\x00\x01", "--db", "{sample}"], "refused by rule"),
        (["extract", "{tmp}/no-run", "--rank", "8", "--out", "{tmp}/x"], "unknown model"),
        (["ask", "q?", "--db", "{sample}", "--dialect", "nonsense"], "unknown SQL dialect"),
    ],
)
def test_cli_bad_input(argv, message, capsys, workdir, sample_db, tmp_path) -> None:
    bad_files(tmp_path)
    before = digest(sample_db)
    args = [a.format(sample=sample_db, tmp=tmp_path) for a in argv]
    code = main(args + (FAKE if args[0] == "ask" else []))
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
    assert err.count("\n") == 1  # one line
    assert digest(sample_db) == before and not any(workdir.iterdir())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predict", "--data", "d.json", "--out", "o", "--limit", "-1"], "at least 1, not -1"),
        (["predict", "--data", "d.json", "--out", "o", "--batch-size", "0"], "at least 1, not 0"),
        (["schema", "--db", "sample", "--samples", "-2"], "at least 0, not -2"),
        (["eval", "run", "--judge-concurrency", "x"], "'x' is not a whole number"),
        (["serve", "--db", "sample", "--port", "70000"], "from 1 to 65535, not 70000"),
        (["app", "--port", "0"], "from 1 to 65535, not 0"),
    ],
)
def test_counts_out_of_range_are_refused_before_anything_runs(argv, message, capsys, workdir):
    with pytest.raises(SystemExit) as stop:  # argparse's own exit, usage and one error line
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err
    assert not any(workdir.iterdir())


@pytest.mark.parametrize("command", ["serve", "app"])
def test_a_port_already_taken_is_said_before_the_model_loads(command, capsys, workdir) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        code = main([command, "--host", "127.0.0.1", "--port", port, *FAKE])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and "in use" in err
    assert err.count("\n") == 1 and not any(workdir.iterdir())


def test_cli_missing_model_is_one_line(capsys, workdir, sample_db) -> None:
    code = main(["ask", "q?", "--db", str(sample_db), "--model", str(workdir / "no-model")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown model" in err and err.count("\n") == 1


def test_500_tables_answer_with_a_note(capsys, workdir, wide_db) -> None:
    before = digest(wide_db)
    code = main(["ask", "How many artists are there?", "--db", str(wide_db), *FAKE])
    out, err = capsys.readouterr()
    assert code == 0 and "FROM artist" in out  # linked by default: a long schema
    assert "schema linking: the prompt shows 1 of 501 tables" in err
    argv = ["ask", "How many artists are there?", "--db", str(wide_db), "--link-schema", "off"]
    code = main([*argv, *FAKE])
    out, err = capsys.readouterr()
    assert code == 0 and "FROM artist" in out  # whole: the budget cuts it
    assert "left out" in err and "of 501 tables" in err
    assert digest(wide_db) == before


def test_locked_database_is_one_clear_line(capsys, locked_db) -> None:
    before = digest(locked_db)
    for argv in (["run", "SELECT count(*) FROM purchase"], ["schema"]):
        code = main([*argv, "--db", str(locked_db)])
        err = capsys.readouterr().err
        assert code == 2 and "locked by another program" in err and err.count("\n") == 1
    assert digest(locked_db) == before


def test_api_on_a_locked_and_a_wide_database(locked_db, wide_db) -> None:
    from fastapi.testclient import TestClient

    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service

    service = Service(ScriptedBackend(), {"wide": str(wide_db)})
    service.databases["locked"] = str(locked_db)  # locked after start-up
    client = TestClient(create_app(service))
    wide = client.post("/v1/sql", json={"question": "How many artists?", "database": "wide"})
    assert wide.status_code == 200 and any("left out" in n for n in wide.json()["notes"])
    reply = client.post(
        "/v1/query", json={"sql": "SELECT count(*) FROM purchase", "database": "locked"}
    )
    # The writer holds an exclusive lock: a reader can neither read the schema nor the rows.
    assert reply.status_code == 400
    assert "locked by another program" in reply.json()["detail"]


def test_api_binary_body_and_wrong_types() -> None:
    from fastapi.testclient import TestClient

    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service

    client = TestClient(create_app(Service(ScriptedBackend())))
    binary = client.post(
        "/v1/sql", content=bytes(range(256)), headers={"Content-Type": "application/json"}
    )
    assert binary.status_code == 422
    wrong = client.post("/v1/sql", json={"question": ["a"], "database": "sample"})
    assert wrong.status_code == 422 and "question" in wrong.json()["detail"]

    def chunks():
        yield b'{"question": "q", '
        yield b'"database": "sample"}'

    streamed = client.post(
        "/v1/sql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 411
    dialect = client.post(
        "/v1/sql", json={"question": "q", "database": "sample", "dialect": "nonsense"}
    )
    assert dialect.status_code == 400 and "unknown SQL dialect" in dialect.json()["detail"]
    for method, path in (("get", "/v1/sql"), ("delete", "/v1/query")):
        assert getattr(client, method)(path).status_code == 405


def test_app_upload_that_is_not_a_database(monkeypatch, tmp_path) -> None:
    from streamlit.testing.v1 import AppTest

    import smolsql.serve

    class Upload:
        name = "notes.sqlite"

        def getvalue(self) -> bytes:
            return b"not a database at all"

    import streamlit as st

    monkeypatch.setenv("SMOLSQL_APP_BACKEND", "fakes:scripted")
    monkeypatch.setattr(st.sidebar, "file_uploader", lambda *a, **k: Upload())
    script = str(Path(smolsql.serve.__file__).with_name("app.py"))
    app = AppTest.from_file(script, default_timeout=60).run()  # the default 3 s is tight
    app.sidebar.radio(key="source").set_value("SQLite file").run()
    assert not app.exception
    assert "not a SQLite or DuckDB database" in app.error[0].value


def test_app_empty_question_does_nothing(monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    import smolsql.serve

    monkeypatch.setenv("SMOLSQL_APP_BACKEND", "fakes:scripted")
    app = AppTest.from_file(str(Path(smolsql.serve.__file__).with_name("app.py"))).run()
    app.text_input(key="question").input("   ")
    app.button(key="ask").click().run()
    assert not app.exception and not app.error and "sql" not in app.session_state
