"""Solved examples: which are picked, where they go in the prompt, and every way in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import ScriptedBackend

from smolsql.ask import ask
from smolsql.choose import ChoiceSettings
from smolsql.db import open_database
from smolsql.errors import SmolsqlError
from smolsql.prompt import build_prompt, shared_prefix
from smolsql.records import Example, Solved, read_jsonl, write_jsonl
from smolsql.solved import most_similar, read_solved_file, similarities, with_solved

POOL = (
    Solved("What is the average age of all singers?", "SELECT AVG(age) FROM singer"),
    Solved("How many singers are there?", "SELECT COUNT(*) FROM singer"),
    Solved("List the names of all stadiums.", "SELECT name FROM stadium"),
    Solved("What is the name of the oldest singer?", "SELECT name FROM singer ORDER BY age DESC"),
)

# (question, the pool's question picked first)
PICKS = [
    ("How many stadiums are there?", 1),  # the same shape beats the same table
    ("How old are the singers on average?", 0),
    ("Who is the oldest singer?", 3),  # 'oldest' is rarer than 'singer'; 'the' is nothing
    ("Give me every stadium's name", 2),
]


@pytest.mark.parametrize(("question", "expected"), PICKS)
def test_most_similar_questions_come_first(question: str, expected: int) -> None:
    assert most_similar(question, POOL, k=2)[0] == POOL[expected]


def test_no_more_than_asked_and_nothing_from_nothing() -> None:
    assert len(most_similar("singers", POOL, k=3)) == 3
    assert most_similar("singers", POOL, k=0) == ()
    assert most_similar("singers", (), k=3) == ()


def test_similarity_is_one_for_the_same_words_and_zero_for_none_shared() -> None:
    same, none, some = similarities("How many singers are there?", POOL[1:4])
    assert same == pytest.approx(1.0)  # "How many singers are there?" itself
    assert none == 0.0  # "List the names of all stadiums." shares no word but filler
    assert 0.0 < some < 1.0  # "the oldest singer": one word shared


def _example(i: int, question: str, sql: str, db: str = "concerts") -> Example:
    return Example(question, f"CREATE TABLE {db} (x INT);", sql, f"{db}.sqlite", id=f"q{i}")


DATASET = [
    _example(0, "How many singers are there?", "SELECT count(*) FROM singer"),
    _example(1, "Count the singers.", "select COUNT(*) from singer"),  # the same SQL as q0
    _example(2, "How many concerts are there?", "SELECT count(*) FROM concert"),
    _example(3, "What is the average singer age?", "SELECT avg(age) FROM singer"),
    _example(4, "How many pets are there?", "SELECT count(*) FROM pets", db="pets"),
]


def test_a_dataset_question_never_sees_itself_its_own_sql_or_another_database() -> None:
    out = {e.id: e for e in with_solved(DATASET, k=3)}
    assert [s.question for s in out["q0"].solved] == [
        "How many concerts are there?",
        "What is the average singer age?",
    ]  # q1 asks for the same query in other words: left out
    assert "Count the singers." not in [s.question for s in out["q0"].solved]
    assert out["q4"].solved == ()  # alone on its database
    assert all(s.question != e.question for e in out.values() for s in e.solved)


def test_a_varied_count_covers_none_to_k() -> None:
    many = [_example(i, f"How many singers are older than {i}?", f"SELECT {i}") for i in range(60)]
    counts = {len(e.solved) for e in with_solved(many, k=3, vary_seed=0)}
    assert counts == {0, 1, 2, 3}
    assert {len(e.solved) for e in with_solved(many, k=3)} == {3}


def test_a_count_out_of_range_is_refused() -> None:
    with pytest.raises(SmolsqlError, match="0 to 10"):
        with_solved(DATASET, k=11)


def test_solved_turns_come_after_the_schema_and_before_the_question() -> None:
    schema = "CREATE TABLE singer (age INT);"
    plain = build_prompt("How old is the oldest?", schema)
    shown = build_prompt("How old is the oldest?", schema, solved=POOL[:2])
    assert shared_prefix(plain) == shared_prefix(shown)  # the schema's cache still serves it
    first, second, asked = (shown.index(s) for s in ("average age", "How many", "oldest?"))
    assert first < second < asked
    assert "<|im_start|>assistant\nSELECT COUNT(*) FROM singer<|im_end|>\n" in shown
    assert shown.endswith("oldest?<|im_end|>\n<|im_start|>assistant\n")


def test_examples_keep_their_solved_examples_through_jsonl(tmp_path: Path) -> None:
    example = Example("How old?", "CREATE TABLE t (a INT);", solved=POOL[:2])
    write_jsonl(tmp_path / "e.jsonl", [example])
    assert list(read_jsonl(tmp_path / "e.jsonl", Example)) == [example]


def test_solved_files_read_as_json_or_json_lines(tmp_path: Path) -> None:
    pairs = [{"question": s.question, "sql": s.sql} for s in POOL]
    (tmp_path / "a.json").write_text(json.dumps(pairs))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(p) for p in pairs) + "\n")
    assert read_solved_file(tmp_path / "a.json") == POOL
    assert read_solved_file(tmp_path / "b.jsonl") == POOL


BAD_FILES = [
    ('{"question": "q"}\n', "solved example 1 needs a non-empty 'sql'"),
    ('[{"question": "", "sql": "SELECT 1"}]', "needs a non-empty 'question'"),
    ('{"question": "a", "sql": "SELECT 1"}\nnot json\n', "not JSON or JSON Lines"),
    ('{"questions": []}', "solved example 1 needs a non-empty 'question'"),
    ("[1, 2]", "solved example 1 needs"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_solved_files_are_named_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "solved.jsonl"
    path.write_text(text)
    with pytest.raises(SmolsqlError, match=message) as info:
        read_solved_file(path)
    assert str(path) in str(info.value)


def test_a_missing_solved_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SmolsqlError, match="solved examples file not found"):
        read_solved_file(tmp_path / "nope.json")


def test_ask_shows_the_most_similar_solved_examples(sample_db: Path) -> None:
    backend = ScriptedBackend()
    saved = (
        Solved("How many customers live in Porto?", "SELECT COUNT(*) FROM customer"),
        Solved("List every album title.", "SELECT title FROM album"),
        Solved("Which artists are from Spain?", "SELECT name FROM artist"),
        Solved("Name the genres.", "SELECT DISTINCT genre FROM album"),
    )
    with open_database(sample_db) as db:
        question = "How many artists are there?"
        answer = ask(backend, question, db.schema(), db, choice=ChoiceSettings(1), solved=saved)
    prompt = backend.prompts[0]
    assert answer.prediction.example.solved == most_similar("How many artists are there?", saved)
    assert len(answer.prediction.example.solved) == 3
    assert "Name the genres." not in prompt  # no word shared, and last of the ties: left out
    assert prompt.index("Porto") < prompt.index("How many artists are there?")


def test_the_api_takes_a_requests_solved_examples_or_the_servers(sample_db: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service

    backend = ScriptedBackend()
    saved = {"shop": (Solved("How many albums are there?", "SELECT COUNT(*) FROM album"),)}
    client = TestClient(create_app(Service(backend, {"shop": str(sample_db)}, solved=saved)))
    asked = {"question": "How many artists are there?", "database": "shop", "candidates": 1}
    own = [{"question": "How many customers are there?", "sql": "SELECT COUNT(*) FROM customer"}]
    assert client.post("/v1/sql", json=asked).status_code == 200
    assert client.post("/v1/query", json={**asked, "solved": own}).status_code == 200
    assert client.post("/v1/sql", json={**asked, "solved": []}).status_code == 200
    server, request, none = backend.prompts
    assert "albums" in server and "customers" not in server
    assert "customers" in request and "albums" not in request
    assert "albums" not in none and "customers" not in none
    bad = client.post("/v1/sql", json={**asked, "solved": [{"question": "q"}]})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("solved.0.sql")


def test_solved_examples_for_a_database_not_served_are_refused(sample_db: Path) -> None:
    from smolsql.serve.service import Service

    with pytest.raises(SmolsqlError, match="solved examples for 'shpo'"):
        Service(ScriptedBackend(), {"shop": str(sample_db)}, solved={"shpo": POOL})
