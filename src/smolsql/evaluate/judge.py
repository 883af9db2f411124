"""An LLM judge over any OpenAI-compatible chat-completions endpoint, or Azure OpenAI.

Unlike a judge that sees only the question and the answer (and so accepts
invented column names), this one also sees the schema and the reference SQL.
The verdict is strict JSON, parsed into a `Verdict`; a malformed one is asked
for again, then counted as failed. Requests are cached on disk by their content.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.records import Prediction, Verdict

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
    base_url: str = ""
    """OpenAI-compatible base URL (…/v1), or the Azure endpoint (https://NAME.openai.azure.com)."""
    model: str = ""
    """Model name; for Azure, the deployment name."""
    api_key: str = field(default="", repr=False)
    azure_api_version: str = ""
    """Set for Azure OpenAI: the endpoint's api-version."""
    json_mode: bool = True
    """Ask for `response_format: json_object` (OpenAI, Azure and llama.cpp's server honour it)."""
    concurrency: int = 4
    max_retries: int = 4
    timeout_s: float = 60.0
    backoff_s: float = 1.0
    cache_dir: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> JudgeConfig:
        """SMOLSQL_JUDGE_* first, then OPENAI_* or AZURE_OPENAI_* variables."""
        env = os.environ.get
        azure = env("AZURE_OPENAI_ENDPOINT")
        values = {
            "base_url": env("SMOLSQL_JUDGE_BASE_URL") or azure or env("OPENAI_BASE_URL") or "",
            "model": env("SMOLSQL_JUDGE_MODEL") or env("AZURE_OPENAI_DEPLOYMENT") or "",
            "api_key": env("SMOLSQL_JUDGE_API_KEY")
            or (env("AZURE_OPENAI_API_KEY") if azure else env("OPENAI_API_KEY"))
            or "",
            "azure_api_version": env("AZURE_OPENAI_API_VERSION") or "",
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, "")})
        return cls(**values)  # type: ignore[arg-type]


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
        if not config.base_url or not config.model:
            raise SmolsqlError(
                "the judge needs an endpoint and a model: --judge-url and --judge-model, or "
                "SMOLSQL_JUDGE_BASE_URL and SMOLSQL_JUDGE_MODEL (AZURE_OPENAI_* for Azure)"
            )
        self.config = config
        self.requests_sent = 0

    def _url_and_headers(self) -> tuple[str, dict[str, str]]:
        c = self.config
        headers = {"Content-Type": "application/json"}
        if c.azure_api_version:
            url = (
                f"{c.base_url.rstrip('/')}/openai/deployments/{c.model}/chat/completions"
                f"?api-version={c.azure_api_version}"
            )
            headers["api-key"] = c.api_key
        else:
            url = f"{c.base_url.rstrip('/')}/chat/completions"
            if c.api_key:
                headers["Authorization"] = f"Bearer {c.api_key}"
        return url, headers

    def judge(self, prediction: Prediction) -> Verdict:
        body: dict = {"model": self.config.model, "temperature": 0,
                      "messages": judge_messages(prediction)}  # fmt: skip
        if self.config.json_mode:
            body["response_format"] = {"type": "json_object"}
        cache = self._cache_path(body)
        if cache and cache.exists():
            return Verdict(**json.loads(cache.read_text()))
        verdict = self._ask(body)
        if cache and not verdict.failed:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(verdict.__dict__))
        return verdict

    def judge_all(self, predictions: Sequence[Prediction]) -> list[Verdict]:
        with ThreadPoolExecutor(max(1, self.config.concurrency)) as pool:
            return list(pool.map(self.judge, predictions))

    def _cache_path(self, body: dict) -> Path | None:
        if not self.config.cache_dir:
            return None
        key_source = json.dumps([self.config.base_url, body], sort_keys=True)
        return (
            Path(self.config.cache_dir) / f"{hashlib.sha256(key_source.encode()).hexdigest()}.json"
        )

    def _ask(self, body: dict) -> Verdict:
        url, headers = self._url_and_headers()
        data = json.dumps(body).encode()
        last = "no reply"
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last))
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            self.requests_sent += 1
            try:
                with urllib.request.urlopen(request, timeout=self.config.timeout_s) as reply:
                    payload = json.loads(reply.read().decode("utf-8"))
                content = payload["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    last += f" retry-after={retry_after}"
                if exc.code not in (408, 409, 429) and exc.code < 500:
                    return Verdict(False, None, f"judge refused the request: {last}", failed=True)
                continue
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last = f"unreachable: {getattr(exc, 'reason', exc)}"
                continue
            except (ValueError, KeyError, IndexError, TypeError):
                last = "reply is not a chat completion"
                continue
            verdict = parse_verdict(content)
            if verdict is not None:
                return verdict
            last = f"malformed verdict: {content[:120]!r}"
        return Verdict(False, None, f"judge failed: {last}", failed=True)

    def _delay(self, attempt: int, last: str) -> float:
        match = re.search(r"retry-after=(\d+(?:\.\d+)?)", last)
        if match:
            return min(float(match.group(1)), 30.0)
        return self.config.backoff_s * 2 ** (attempt - 1)
