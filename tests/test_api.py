"""The HTTP API through FastAPI's TestClient, with the scripted backend and a real SQLite file."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fakes import ScriptedBackend

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient

from smolsql.errors import SmolsqlError
from smolsql.serve.api import create_app
from smolsql.serve.service import Service, parse_database_args


@pytest.fixture
def client(sample_db: Path) -> TestClient:
    service = Service(ScriptedBackend(), {"shop": str(sample_db)})
    return TestClient(create_app(service))


def test_sql_for_a_named_database(client: TestClient) -> None:
    reply = client.post("/v1/sql", json={"question": "How many artists?", "database": "shop"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["sql"].split() == ["SELECT", "COUNT(*)", "FROM", "artist"]
    assert body["valid"] and body["problems"] == [] and body["model"] == "scripted"
    assert body["latency_ms"] > 0


def test_sql_for_a_schema_in_another_dialect(client: TestClient) -> None:
    schema = "CREATE TABLE customer (id INT, name TEXT, city TEXT);"
    reply = client.post(
        "/v1/sql", json={"question": "The first three?", "schema": schema, "dialect": "tsql"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["sql"].split()[:3] == ["SELECT", "TOP", "3"]


def test_unknown_names_are_flagged_not_hidden(client: TestClient) -> None:
    body = client.post("/v1/sql", json={"question": "ghost towns", "database": "shop"}).json()
    assert not body["valid"] and "unknown table ghosts" in body["problems"]


def test_query_runs_the_answer_or_a_persons_sql(client: TestClient) -> None:
    asked = client.post("/v1/query", json={"question": "How many artists?", "database": "shop"})
    assert asked.status_code == 200 and asked.json()["rows"] == [[5]]
    written = client.post(
        "/v1/query",
        json={"sql": "SELECT name FROM artist ORDER BY name", "database": "shop", "max_rows": 2},
    )
    body = written.json()
    assert body["columns"] == ["name"] and len(body["rows"]) == 2 and body["truncated"]
    assert body["model"] == "(written by a person)"


@pytest.mark.parametrize(
    ("route", "payload", "status", "message"),
    [
        ("/v1/sql", {"question": "   ", "database": "shop"}, 400, "question is empty"),
        ("/v1/sql", {"question": "x" * 3000, "database": "shop"}, 422, "at most 2000"),
        ("/v1/sql", {"question": "x" * 1_000_000, "database": "shop"}, 413, "over 256 KB"),
        ("/v1/sql", {"question": "a\x00b", "database": "shop"}, 400, "binary"),
        ("/v1/sql", {"question": "q", "database": "nope"}, 404, "unknown database 'nope'"),
        ("/v1/sql", {"question": "q"}, 400, "exactly one of database"),
        ("/v1/sql", {"database": "shop"}, 422, "question: Field required"),
        ("/v1/query", {"question": "drop it", "database": "shop"}, 400, "refused by rule"),
        ("/v1/query", {"sql": "DELETE FROM artist", "database": "shop"}, 400, "read_only"),
        ("/v1/query", {"sql": "SELECT 1", "question": "q", "database": "shop"}, 400, "exactly"),
        ("/v1/query", {"sql": "SELECT 1", "database": "shop", "max_rows": 0}, 422, "max_rows"),
        ("/v1/query", {"question": "prose", "database": "shop"}, 400, "gave no SQL"),
        ("/v1/sql", {"question": "q", "database": "shop", "candidates": 0}, 422, "candidates"),
        ("/v1/sql", {"question": "q", "database": "shop", "candidates": 1000}, 422, "candidates"),
    ],
)
def test_bad_requests_get_one_clear_message(client, route, payload, status, message) -> None:
    reply = client.post(route, json=payload)
    assert reply.status_code == status, reply.text
    assert message in reply.json()["detail"]


def test_malformed_json_is_a_422(client: TestClient) -> None:
    reply = client.post(
        "/v1/sql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 422 and "JSON" in reply.json()["detail"]


def test_health_databases_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    (shop,) = client.get("/v1/databases").json()
    assert shop["name"] == "shop" and shop["dialect"] == "sqlite" and shop["tables"] == 4
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/sql", "/v1/query", "/healthz"} <= set(paths)


class SlowBackend(ScriptedBackend):
    """Records how many calls overlap; the model must never see two at once."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def generate(self, prompts):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)
        out = super().generate(prompts)
        with self.lock:
            self.inside -= 1
        return out


def test_concurrent_requests_are_queued_and_each_gets_its_own_answer(sample_db: Path) -> None:
    backend = SlowBackend()
    client = TestClient(create_app(Service(backend, {"shop": str(sample_db)})))
    questions = ["How many artists?", "Who is in Lisbon?", "ghost"] * 4

    def post(question: str) -> str:
        return client.post("/v1/sql", json={"question": question, "database": "shop"}).json()["sql"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, questions))
    assert backend.most == 1
    for question, sql in zip(questions, answers, strict=True):
        word = {"How many artists?": "artist", "Who is in Lisbon?": "Lisbon", "ghost": "ghosts"}
        assert word[question] in sql


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sample"], {"sample": "sample"}),
        (
            ["shop=/data/shop.sqlite", "pg=postgresql://u@h/db"],
            {"shop": "/data/shop.sqlite", "pg": "postgresql://u@h/db"},
        ),
        (["/data/music.sqlite"], {"music": "/data/music.sqlite"}),
    ],
)
def test_database_arguments(args: list[str], expected: dict) -> None:
    assert parse_database_args(args) == expected


@pytest.mark.parametrize("args", [["a=x", "a=y"], ["=x"], ["a="]])
def test_bad_database_arguments(args: list[str]) -> None:
    with pytest.raises(SmolsqlError):
        parse_database_args(args)


def test_a_missing_database_fails_at_start_not_at_the_first_question(tmp_path: Path) -> None:
    with pytest.raises(SmolsqlError, match="not found"):
        Service(ScriptedBackend(), {"gone": str(tmp_path / "gone.sqlite")})


def test_candidates_are_chosen_and_reported(sample_db: Path) -> None:
    script = {
        "count": [
            "SELECT zzzz FROM artist",
            "SELECT ghost FROM artist",
            "SELECT count(*) FROM artist",
        ]
    }
    service = Service(ScriptedBackend(script), {"shop": str(sample_db)})
    client = TestClient(create_app(service))
    body = {"question": "count them", "database": "shop"}
    chosen = client.post("/v1/query", json={**body, "candidates": 3}).json()
    assert chosen["rows"] == [[5]] and chosen["choice"] == {
        "method": "candidates",
        "chosen": 3,
        "tried": 3,
        "ran": 1,
        "summary": "tried 3, 1 ran, chose #3",
    }
    greedy = client.post("/v1/query", json={**body, "candidates": 1})
    assert greedy.status_code == 400 and "no such column: zzzz" in greedy.json()["detail"]
    given = client.post("/v1/query", json={"sql": "SELECT 1", "database": "shop"}).json()
    assert given["choice"]["method"] == "given"
    sql_only = client.post("/v1/sql", json={**body, "candidates": 2}).json()
    assert sql_only["choice"]["tried"] == 2 and sql_only["sql"].startswith("SELECT")


def test_alternatives_when_the_candidates_disagree(sample_db: Path) -> None:
    split = ["SELECT zzzz FROM artist", "SELECT title FROM album", "SELECT name FROM customer"]
    backend = ScriptedBackend({"which": split, "how many": "SELECT count(*) FROM artist"})
    client = TestClient(create_app(Service(backend, {"shop": str(sample_db)})))
    ask = {"question": "Which names?", "database": "shop", "candidates": 3}
    unsure = client.post("/v1/query", json=ask)
    assert unsure.status_code == 200
    shown = unsure.json()["alternatives"]
    assert [" ".join(a["sql"].split()) for a in shown] == split[1:]
    assert [a["votes"] for a in shown] == [1, 1]
    assert shown[0]["sql"] == unsure.json()["sql"] and all(a["rows"] > 0 for a in shown)
    sure = client.post("/v1/sql", json={"question": "How many artists?", "database": "shop"})
    assert sure.json()["alternatives"] == []
