"""The LLM judge against a real HTTP server on loopback speaking chat completions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes import VERDICT as GOOD
from fakes import ScriptedServer

from smolsql.endpoint import Endpoint
from smolsql.evaluate.judge import Judge, JudgeConfig, parse_verdict
from smolsql.records import Example, Prediction, Verdict


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.httpd.shutdown()


def _judge(server: ScriptedServer, **kw: object) -> Judge:
    return Judge(JudgeConfig(Endpoint(server.url, "m", "k", backoff_s=0.01), **kw))  # type: ignore[arg-type]


PRED = Prediction(
    Example("How many?", "CREATE TABLE t (a INT);", "SELECT count(*) FROM t"),
    "SELECT a FROM t",
)


def test_verdict_and_what_the_judge_sees(server: ScriptedServer) -> None:
    verdict = _judge(server).judge(PRED)
    assert verdict == Verdict(False, "logic_error", "wrong filter")
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["model"] == "m"
    assert request["response_format"] == {"type": "json_object"}
    prompt = request["messages"][1]["content"]
    # The schema and the reference SQL are shown, not only question and prediction.
    assert "CREATE TABLE t (a INT);" in prompt and "SELECT count(*) FROM t" in prompt
    assert server.headers[0]["Authorization"] == "Bearer k"


@pytest.mark.parametrize(
    ("replies", "expected", "sent"),
    [
        ([(200, "not json"), (200, GOOD)], "logic_error", 2),  # malformed, then fine
        ([(200, '{"correct": true, "error_type": "bogus"}'), (200, GOOD)], "logic_error", 2),
        ([(429, "{}"), (200, GOOD)], "logic_error", 2),  # rate limited
        ([(500, "{}"), (503, "{}"), (200, GOOD)], "logic_error", 3),
        ([(200, "RAW:<html>"), (200, GOOD)], "logic_error", 2),  # not a completion
        ([(200, "```json\n" + GOOD + "\n```")], "logic_error", 1),  # fenced JSON is fine
        ([(500, "{}")] * 5, "failed", 5),  # retries run out
        ([(200, "nope")] * 5, "failed", 5),
        ([(401, "{}")], "failed", 1),  # not worth retrying
    ],
)
def test_retries_and_failures(server: ScriptedServer, replies, expected: str, sent: int) -> None:
    server.replies = list(replies)
    judge = _judge(server)
    verdict = judge.judge(PRED)
    assert ("failed" if verdict.failed else verdict.error_type) == expected
    assert judge.requests_sent == sent


def test_cache_answers_repeated_requests(server: ScriptedServer, tmp_path) -> None:
    first = _judge(server, cache_dir=str(tmp_path)).judge(PRED)
    again = _judge(server, cache_dir=str(tmp_path))
    assert again.judge(PRED) == first and again.requests_sent == 0
    assert len(server.requests) == 1


def test_concurrent_judging_keeps_order(server: ScriptedServer) -> None:
    preds = [Prediction(PRED.example, f"SELECT {i}") for i in range(12)]
    verdicts = _judge(server, concurrency=4).judge_all(preds)
    assert len(verdicts) == 12 and all(v.error_type == "logic_error" for v in verdicts)
    graded = {r["messages"][1]["content"].rsplit("SQL to grade: ", 1)[1] for r in server.requests}
    assert graded == {f"SELECT {i}" for i in range(12)}


def test_azure_url_and_key_header(server: ScriptedServer) -> None:
    base = server.url.removesuffix("/v1")
    judge = Judge(JudgeConfig(Endpoint(base, "gpt4o", "az", azure_api_version="v1")))
    assert not judge.judge(PRED).failed
    assert server.requests[0]["path"] == "/openai/deployments/gpt4o/chat/completions?api-version=v1"
    assert server.headers[0]["api-key"] == "az"


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        ('{"correct": true, "error_type": null}', True),
        ('{"correct": true, "error_type": "incomplete"}', False),  # contradicts itself
        ('{"correct": false, "error_type": null}', False),
        ('{"correct": "yes", "error_type": null}', False),
        ("[]", False),
    ],
)
def test_parse_verdict(content: str, ok: bool) -> None:
    assert (parse_verdict(content) is not None) is ok


@pytest.mark.parametrize(
    ("variables", "flags", "expected"),
    [
        (
            {
                "SMOLSQL_JUDGE_BASE_URL": "http://j/v1",
                "SMOLSQL_JUDGE_MODEL": "m",
                "SMOLSQL_JUDGE_API_KEY": "k",
                "OPENAI_API_KEY": "o",
            },
            {},
            ("http://j/v1", "m", "k", ""),
        ),
        (
            {"OPENAI_BASE_URL": "http://o/v1", "OPENAI_API_KEY": "o"},
            {"model": "gpt"},
            ("http://o/v1", "gpt", "o", ""),
        ),
        (
            {
                "AZURE_OPENAI_ENDPOINT": "https://a",
                "AZURE_OPENAI_API_KEY": "az",
                "AZURE_OPENAI_DEPLOYMENT": "d",
                "AZURE_OPENAI_API_VERSION": "v1",
                "OPENAI_API_KEY": "o",
            },
            {},
            ("https://a", "d", "az", "v1"),
        ),
        (
            {"SMOLSQL_JUDGE_BASE_URL": "http://j/v1"},
            {"base_url": "http://flag/v1", "model": "f"},
            ("http://flag/v1", "f", "", ""),
        ),
    ],
)
def test_the_endpoint_comes_from_flags_then_variables(monkeypatch, variables, flags, expected):
    from smolsql.settings import VARIABLES

    for variable in VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = JudgeConfig.from_env(**flags, concurrency=2)
    e = config.endpoint
    assert (e.base_url, e.model, e.api_key, e.azure_api_version) == expected
    assert config.concurrency == 2
