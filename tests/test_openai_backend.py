"""The OpenAI-compatible backend against a real HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fakes import ScriptedServer

from smolsql.backends import GenerationSettings, load_backend
from smolsql.backends.openai import OpenAIBackend
from smolsql.endpoint import Endpoint
from smolsql.errors import SmolsqlError
from smolsql.prompt import build_prompt

PROMPT = build_prompt("How many artists?", "CREATE TABLE artist (id INT);")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.httpd.shutdown()


def _backend(server: ScriptedServer, mode: str = "completions") -> OpenAIBackend:
    endpoint = Endpoint(server.url, "smolsql-tuned", "key", backoff_s=0.01)
    return OpenAIBackend(endpoint, GenerationSettings(max_new_tokens=64), mode)


def test_completions_mode_sends_the_exact_training_prompt(server: ScriptedServer) -> None:
    server.replies = [(200, "SELECT count(*) FROM artist<|im_end|>junk")]
    assert _backend(server).generate([PROMPT]) == ["SELECT count(*) FROM artist"]
    (request,) = server.requests
    assert request["path"] == "/v1/completions" and request["prompt"] == PROMPT
    assert request["temperature"] == 0 and request["max_tokens"] == 64
    assert request["stop"] == ["<|im_end|>"] and request["model"] == "smolsql-tuned"
    assert server.headers[0]["Authorization"] == "Bearer key"


def test_chat_mode_sends_the_turns_as_messages(server: ScriptedServer) -> None:
    server.replies = [(200, "SELECT 1")]
    assert _backend(server, "chat").generate([PROMPT]) == ["SELECT 1"]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    roles = [m["role"] for m in request["messages"]]
    assert roles == ["system", "user"]
    assert "CREATE TABLE artist" in request["messages"][0]["content"]
    assert request["messages"][1]["content"].endswith("How many artists?")


def test_many_prompts_answered_in_order_and_errors_retried(server: ScriptedServer) -> None:
    server.replies = [(429, "{}"), (503, "{}")]  # then the default reply for the rest
    prompts = [build_prompt(f"q{i}", "CREATE TABLE t (a INT);") for i in range(5)]
    server.replies += [(200, f"SELECT {i}") for i in range(5)]
    out = _backend(server).generate(prompts)
    assert sorted(out) == [f"SELECT {i}" for i in range(5)]
    assert len(server.requests) == 7


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ([(401, "{}")], "HTTP 401"),
        ([(200, "RAW:{}")] * 5, "not a completion"),
        ([(500, "{}")] * 5, "HTTP 500"),
    ],
)
def test_failures_are_one_clear_error(server: ScriptedServer, replies, message: str) -> None:
    server.replies = list(replies)
    with pytest.raises(SmolsqlError, match=message):
        _backend(server).generate([PROMPT])


def test_configured_from_the_environment(server: ScriptedServer, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("SMOLSQL_OPENAI_BASE_URL", raising=False)
    with pytest.raises(SmolsqlError, match="SMOLSQL_OPENAI_BASE_URL"):
        load_backend("served-model", "openai")
    monkeypatch.setenv("SMOLSQL_OPENAI_BASE_URL", server.url)
    backend = load_backend("served-model", "openai")
    server.replies = [(200, "SELECT 2")]
    assert backend.generate([PROMPT]) == ["SELECT 2"]
    assert server.requests[0]["model"] == "served-model"


def test_candidates_are_n_choices_in_index_order(server: ScriptedServer) -> None:
    choices = [{"index": 1, "text": "SELECT 2<|im_end|>junk"}, {"index": 0, "text": "SELECT 1"}]
    server.replies = [(200, "RAW:" + json.dumps({"choices": choices}))]
    assert _backend(server).sample([PROMPT], 2, max_new_tokens=20) == [["SELECT 1", "SELECT 2"]]
    (request,) = server.requests
    assert request["n"] == 2 and request["max_tokens"] == 20
    assert request["temperature"] == 0.5 and request["top_p"] == 0.95
    assert isinstance(request["seed"], int)
    server.replies = [(200, "RAW:" + json.dumps({"choices": choices[:1]}))]
    with pytest.raises(SmolsqlError, match="asked for 3 choices, the server sent 1"):
        _backend(server).sample([PROMPT], 3)
