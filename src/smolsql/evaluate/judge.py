"""An LLM judge over any OpenAI-compatible chat-completions endpoint, or Azure OpenAI.

Unlike a judge that sees only the question and the answer (and so accepts
invented column names), this one also sees the schema and the reference SQL.
The verdict is strict JSON, parsed into a `Verdict`; a malformed one is asked
for again, then counted as failed. Requests are cached on disk by their content.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from smolsql.endpoint import Client, Endpoint, EndpointError
from smolsql.errors import SmolsqlError
from smolsql.records import Prediction, Verdict
from smolsql.settings import env

ERROR_TYPES = ("incomplete", "irrelevant", "logic_error")

SYSTEM = (
    "You grade SQL written for a question about a database. Reply with JSON only: "
    '{"correct": true or false, "error_type": null or one of "incomplete", "irrelevant", '
    '"logic_error", "explanation": "one sentence"}. '
    "incomplete: it answers only part of the question. irrelevant: it answers another "
    "question or uses tables or columns that are not in the schema. logic_error: right "
    "tables, wrong conditions, joins or aggregation. Judge the meaning; the reference SQL "
    "is one correct answer, not the only one."
)


@dataclass(frozen=True)
class JudgeConfig:
    endpoint: Endpoint
    """Where the judge is (OpenAI-compatible or Azure), with its timeout and retries."""
    json_mode: bool = True
    """Ask for `response_format: json_object` (OpenAI, Azure and llama.cpp's server honour it)."""
    concurrency: int = 4
    cache_dir: str | None = None

    @classmethod
    def from_env(
        cls, base_url: str | None = None, model: str | None = None, **settings: object
    ) -> JudgeConfig:
        """`base_url` and `model` if given, else SMOLSQL_JUDGE_*, then AZURE_OPENAI_*/OPENAI_*."""
        azure = env("AZURE_OPENAI_ENDPOINT")
        endpoint = Endpoint(
            base_url=base_url
            or env("SMOLSQL_JUDGE_BASE_URL")
            or azure
            or env("OPENAI_BASE_URL")
            or "",
            model=model or env("SMOLSQL_JUDGE_MODEL") or env("AZURE_OPENAI_DEPLOYMENT") or "",
            api_key=env("SMOLSQL_JUDGE_API_KEY")
            or (env("AZURE_OPENAI_API_KEY") if azure else env("OPENAI_API_KEY"))
            or "",
            azure_api_version=env("AZURE_OPENAI_API_VERSION") or "",
        )
        return cls(endpoint, **{k: v for k, v in settings.items() if v not in (None, "")})  # type: ignore[arg-type]


def judge_messages(prediction: Prediction) -> list[dict[str, str]]:
    ex = prediction.example
    user = (
        f"Schema:\n{ex.schema or '(not given)'}\n\nQuestion: {ex.question}\n\n"
        f"Reference SQL: {ex.sql or '(none)'}\n\nSQL to grade: {prediction.sql or '(empty)'}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(content: str) -> Verdict | None:
    """The verdict in a reply, or None when the reply is not the JSON we asked for."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("correct"), bool):
        return None
    error_type = data.get("error_type")
    if error_type not in (None, *ERROR_TYPES) or (data["correct"] and error_type is not None):
        return None
    if not data["correct"] and error_type is None:
        return None
    return Verdict(data["correct"], error_type, str(data.get("explanation", ""))[:500])


class Judge:
    def __init__(self, config: JudgeConfig) -> None:
        if not config.endpoint.base_url or not config.endpoint.model:
            raise SmolsqlError(
                "the judge needs an endpoint and a model: --judge-url and --judge-model, or "
                "SMOLSQL_JUDGE_BASE_URL and SMOLSQL_JUDGE_MODEL (AZURE_OPENAI_* for Azure)"
            )
        self.config = config
        self.client = Client(config.endpoint)

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    def judge(self, prediction: Prediction) -> Verdict:
        body: dict = {
            "model": self.config.endpoint.model,
            "temperature": 0,
            "messages": judge_messages(prediction),
        }
        if self.config.json_mode:
            body["response_format"] = {"type": "json_object"}
        cache = self._cache_path(body)
        if cache and cache.exists():
            return Verdict(**json.loads(cache.read_text()))
        try:
            verdict = self.client.post("chat/completions", body, _verdict_of)
        except EndpointError as exc:
            return Verdict(False, None, f"judge failed: {exc}", failed=True)
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(verdict.__dict__))
        return verdict

    def judge_all(self, predictions: Sequence[Prediction]) -> list[Verdict]:
        with ThreadPoolExecutor(max(1, self.config.concurrency)) as pool:
            return list(pool.map(self.judge, predictions))

    def _cache_path(self, body: dict) -> Path | None:
        if not self.config.cache_dir:
            return None
        key_source = json.dumps([self.config.endpoint.base_url, body], sort_keys=True)
        return (
            Path(self.config.cache_dir) / f"{hashlib.sha256(key_source.encode()).hexdigest()}.json"
        )


def _verdict_of(payload: dict) -> Verdict | None:
    return parse_verdict(payload["choices"][0]["message"]["content"] or "")
