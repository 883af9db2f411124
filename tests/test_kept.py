"""The answers people keep per database: one store for the CLI, the API and the prompts."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from fakes import ScriptedBackend, model_folder

from smolsql.cli import main
from smolsql.errors import SmolsqlError
from smolsql.kept import KeptAnswers, database_key, use_kept
from smolsql.records import Solved


@pytest.fixture
def store(tmp_path: Path) -> KeptAnswers:
    return KeptAnswers(tmp_path / "kept.jsonl")


def test_keep_find_again_and_forget(store: KeptAnswers) -> None:
    first = store.add("How many artists?", "SELECT count(*) FROM artist;", "cli")
    again = store.add("how many  artists", "select COUNT(*) from artist", "api")
    assert again == first  # the same question and query, spelled otherwise: kept once
    other = store.add("How many artists?", "SELECT count(DISTINCT name) FROM artist", "app")
    assert [k.id for k in store.list()] == [first.id, other.id]
    assert store.solved() == (
        Solved("How many artists?", "SELECT count(*) FROM artist"),
        Solved("How many artists?", "SELECT count(DISTINCT name) FROM artist"),
    )
    assert store.remove(first.id) and not store.remove(first.id)
    assert [k.id for k in store.list()] == [other.id]
    lines = store.path.read_text().splitlines()  # plain JSON Lines, one answer a line
    assert len(lines) == 1 and json.loads(lines[0])["by"] == "app"


def test_the_oldest_go_past_the_cap(tmp_path: Path) -> None:
    store = KeptAnswers(tmp_path / "kept.jsonl", cap=3)
    for i in range(5):
        store.add(f"Artist number {i}?", f"SELECT name FROM artist WHERE artist_id = {i}", "cli")
    assert [k.question for k in store.list()] == [f"Artist number {i}?" for i in (2, 3, 4)]


@pytest.mark.parametrize(
    ("question", "sql", "by", "message"),
    [
        ("Drop it", "DROP TABLE artist", "cli", "only SELECT queries run"),
        ("Two", "SELECT 1; SELECT 2", "cli", "one statement"),
        ("  ", "SELECT 1", "cli", "needs a question"),
        ("Empty", " ; ", "cli", "needs its SQL"),
        ("Who?", "SELECT 1", "cron", "kept by 'cron'"),
    ],
)
def test_what_is_not_kept(store: KeptAnswers, question, sql, by, message) -> None:
    with pytest.raises(SmolsqlError, match=message):
        store.add(question, sql, by)
    assert store.list() == []


@pytest.mark.parametrize(
    "text", ["not json\n", '{"question": "q"}\n', '["a list"]\n', '{"id": "1", "question": "q"}\n']
)
def test_a_file_that_is_not_ours_is_named(tmp_path: Path, text: str) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(text)
    with pytest.raises(SmolsqlError, match=r"notes.jsonl:1: .*not a file of kept answers"):
        KeptAnswers(path).add("How many?", "SELECT 1", "cli")
    assert path.read_text() == text  # nothing lost


def _add_many(path: str, worker: int, n: int) -> None:
    store = KeptAnswers(path)
    for i in range(n):
        store.add(f"Question {i} of worker {worker}?", f"SELECT {worker * 1000 + i}", "api")


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "kept.jsonl")
    workers = [multiprocessing.Process(target=_add_many, args=(path, w, 40)) for w in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    kept = KeptAnswers(path).list()
    assert len(kept) == 80 and len({k.id for k in kept}) == 80


def test_a_database_is_named_by_where_it_is_never_by_its_password(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite"
    db.touch()
    assert database_key(str(db)) == database_key(str(tmp_path / "." / "shop.sqlite"))
    assert database_key(str(db)).startswith("shop-")
    with_password = database_key("postgresql://ann:secret@host/sales")
    assert with_password == database_key("postgresql://ann:other@host/sales")
    assert with_password.startswith("sales-") and "secret" not in with_password
    assert database_key("postgresql://ann@host/sales") != database_key("postgresql://bo@host/sales")


def test_kept_answers_go_in_the_prompt_for_a_model_trained_to_read_them(tmp_path: Path) -> None:
    reader = model_folder(tmp_path / "reader", {"solved_examples": 3})
    assert use_kept("auto", str(reader))[0] is True
    model_folder(reader, {"solved_examples": 0})
    use, why = use_kept("auto", str(reader))
    assert use is False and "not trained to read them" in why
    assert use_kept("on", str(reader))[0] is True and use_kept("off", None)[0] is False


def test_the_default_model_is_trained_to_read_kept_answers() -> None:
    use, why = use_kept("auto", None)  # its smolsql.json ships beside its weights
    assert use is True and why.endswith("the model was trained to read them")


def test_the_cli_keeps_lists_exports_imports_and_removes(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    add = ["solved", "add", "--db", "sample"]
    assert main([*add, "How many?", "SELECT count(*) FROM artist"]) == 0
    assert capsys.readouterr().out.startswith("kept ")
    assert main([*add, "Bad", "SELECT nope FROM artist"]) == 2
    assert "no such column" in capsys.readouterr().err  # it must run, or it is not kept
    assert main(["solved", "export", "--db", "sample"]) == 0
    exported = tmp_path / "kept.jsonl"
    exported.write_text(capsys.readouterr().out)
    other = tmp_path / "other.sqlite"
    from smolsql.data.sample import SCRIPT, build_sqlite

    build_sqlite(SCRIPT, other)
    assert main(["solved", "import", "--db", str(other), str(exported)]) == 0
    assert "kept 1 new of 1" in capsys.readouterr().out
    assert main(["solved", "list", "--db", str(other)]) == 0
    listed = capsys.readouterr().out
    assert "import" in listed and "SELECT count(*) FROM artist" in listed
    kept_id = listed.split()[0]
    assert main(["solved", "remove", "--db", str(other), kept_id]) == 0
    assert main(["solved", "remove", "--db", str(other), kept_id]) == 2
    capsys.readouterr()
    assert main(["solved", "list", "--db", str(other)]) == 0
    nothing = capsys.readouterr()
    assert nothing.out == "" and "no kept answers" in nothing.err
    assert main(["solved", "list", "--db", "sample"]) == 0  # the other database kept its own
    assert "How many?" in capsys.readouterr().out


def test_the_api_keeps_lists_and_forgets(sample_db: Path, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service

    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    backend = ScriptedBackend()
    client = TestClient(create_app(Service(backend, {"shop": str(sample_db)}, use_kept=True)))
    url = "/v1/databases/shop/solved"
    assert client.get(url).json() == []
    pair = {"question": "Name every artist.", "sql": "SELECT name FROM artist"}
    reply = client.post(url, json=pair)
    assert reply.status_code == 201 and reply.json()["by"] == "api"
    kept_id = reply.json()["id"]
    assert [k["question"] for k in client.get(url).json()] == ["Name every artist."]
    client.post("/v1/sql", json={"question": "How many artists?", "database": "shop"})
    assert "Name every artist." in backend.prompts[-1]  # used for the next question at once
    bad = client.post(url, json={"question": "Drop", "sql": "DROP TABLE artist"})
    assert bad.status_code == 400 and "only SELECT" in bad.json()["detail"]
    assert client.post("/v1/databases/nope/solved", json=pair).status_code == 404
    assert client.delete(f"{url}/{kept_id}").status_code == 204
    assert client.delete(f"{url}/{kept_id}").status_code == 404
    assert client.get(url).json() == []


def test_ask_says_whether_the_kept_answers_go_in_the_prompt(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    plain = model_folder(tmp_path / "plain-model")  # trained without kept answers
    ask = ["ask", "How many artists?", "--db", "sample", "--backend", "fakes:scripted"]
    ask += ["--model", str(plain)]
    assert main(ask) == 0
    assert "kept" not in capsys.readouterr().err  # nothing kept: nothing said
    KeptAnswers.of("sample").add("Name every artist.", "SELECT name FROM artist", "cli")
    assert main(ask) == 0  # that model was not trained to read them
    err = capsys.readouterr().err
    assert "stay out of the prompt" in err and "solved examples in the prompt" not in err
    assert main([*ask, "--kept", "on"]) == 0
    err = capsys.readouterr().err
    assert "go in the prompt (--kept on) (1 for this database)" in err
    assert "1 of 1 solved examples in the prompt" in err
    assert main([*ask, "--kept", "off"]) == 0
    assert "solved examples in the prompt" not in capsys.readouterr().err


def test_one_bad_answer_in_an_import_keeps_nothing_and_is_named(store: KeptAnswers) -> None:
    pairs = [Solved("Names?", "SELECT name FROM artist"), Solved("Gone", "DELETE FROM artist")]
    with pytest.raises(SmolsqlError, match="answer 2 of 2: refused by rule 'read_only'"):
        store.add_many(pairs, "import")
    assert store.list() == []
