"""One client for OpenAI-compatible and Azure OpenAI HTTP endpoints, with retries.

The judge and the `openai` backend both speak through it: JSON over POST,
backoff on 408/409/429/5xx and unreachable hosts (Retry-After honoured), no
retry on other 4xx, and an `accept` hook so a reply that parses but says the
wrong thing (a malformed verdict) is asked for again too.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    """OpenAI-compatible base URL (…/v1), or the Azure endpoint (https://NAME.openai.azure.com)."""
    model: str
    """Model name; for Azure, the deployment name."""
    api_key: str = field(default="", repr=False)
    azure_api_version: str = ""
    """Set for Azure OpenAI: the endpoint's api-version."""
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_s: float = 1.0

    def url_and_headers(self, route: str) -> tuple[str, dict[str, str]]:
        """`route` is `chat/completions` or `completions`."""
        headers = {"Content-Type": "application/json"}
        if self.azure_api_version:
            url = (
                f"{self.base_url.rstrip('/')}/openai/deployments/{self.model}/{route}"
                f"?api-version={self.azure_api_version}"
            )
            headers["api-key"] = self.api_key
        else:
            url = f"{self.base_url.rstrip('/')}/{route}"
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
        return url, headers


class EndpointError(Exception):
    """The endpoint gave no acceptable reply; `permanent` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Client:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.requests_sent = 0

    def post(self, route: str, body: dict, accept: Callable[[dict], T | None]) -> T:
        """POST `body`; `accept` turns a reply into a result, or None to ask again."""
        url, headers = self.endpoint.url_and_headers(route)
        data = json.dumps(body).encode()
        last = "no reply"
        for attempt in range(self.endpoint.max_retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last))
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            self.requests_sent += 1
            try:
                with urllib.request.urlopen(request, timeout=self.endpoint.timeout_s) as reply:
                    payload = json.loads(reply.read().decode("utf-8"))
                result = accept(payload)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    last += f" retry-after={retry_after}"
                if exc.code not in (408, 409, 429) and exc.code < 500:
                    raise EndpointError(f"the endpoint refused the request: {last}", True) from None
                continue
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last = f"unreachable: {getattr(exc, 'reason', exc)}"
                continue
            except (ValueError, KeyError, IndexError, TypeError):
                last = "reply is not a completion"
                continue
            if result is not None:
                return result
            last = f"unexpected reply: {str(payload)[:160]!r}"
        raise EndpointError(last)

    def _delay(self, attempt: int, last: str) -> float:
        match = re.search(r"retry-after=(\d+(?:\.\d+)?)", last)
        if match:
            return min(float(match.group(1)), 30.0)
        return self.endpoint.backoff_s * 2 ** (attempt - 1)
