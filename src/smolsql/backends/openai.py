"""Generation on any OpenAI-compatible server: vLLM, llama.cpp's server, TGI, Ollama, OpenAI.

For when one machine is not enough: serve the fine-tuned model elsewhere and
point smolsql at it. `completions` mode (the default) sends the exact prompt
smolsql trained on; `chat` mode sends it as messages, for servers that only
offer chat and apply the model's own template.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from smolsql.backends.base import GenerationOptions
from smolsql.endpoint import Client, Endpoint, EndpointError
from smolsql.errors import SmolsqlError
from smolsql.prompt import END_OF_TURN, prompt_messages

MODES = ("completions", "chat")


class OpenAIBackend:
    def __init__(
        self,
        endpoint: Endpoint,
        options: GenerationOptions | None = None,
        mode: str = "completions",
    ) -> None:
        if mode not in MODES:
            raise SmolsqlError(f"unknown OpenAI mode {mode!r}; choose from {', '.join(MODES)}")
        self.client = Client(endpoint)
        self.options = options or GenerationOptions()
        self.mode = mode
        self.name = f"{endpoint.model} @ {endpoint.base_url}"

    @classmethod
    def from_env(cls, model: str | None, options: GenerationOptions | None = None):
        """SMOLSQL_OPENAI_BASE_URL (or OPENAI_BASE_URL), _API_KEY, _MODE; `model` is served name."""
        env = os.environ.get
        base_url = env("SMOLSQL_OPENAI_BASE_URL") or env("OPENAI_BASE_URL") or ""
        model = model or env("SMOLSQL_OPENAI_MODEL") or ""
        if not base_url or not model:
            raise SmolsqlError(
                "the openai backend needs SMOLSQL_OPENAI_BASE_URL (e.g. http://localhost:8000/v1) "
                "and a served model name (--model or SMOLSQL_OPENAI_MODEL)"
            )
        key = env("SMOLSQL_OPENAI_API_KEY") or env("OPENAI_API_KEY") or ""
        endpoint = Endpoint(base_url, model, key, timeout_s=120.0)
        return cls(endpoint, options, env("SMOLSQL_OPENAI_MODE") or "completions")

    def generate(self, prompts: Sequence[str]) -> list[str]:
        with ThreadPoolExecutor(max(1, self.options.batch_size)) as pool:
            return list(pool.map(self._complete, prompts))

    def _complete(self, prompt: str) -> str:
        body: dict = {
            "model": self.client.endpoint.model,
            "temperature": 0,
            "max_tokens": self.options.max_new_tokens,
            "stop": [END_OF_TURN],
        }
        if self.mode == "chat":
            body["messages"] = prompt_messages(prompt)
        else:
            body["prompt"] = prompt
        route = "chat/completions" if self.mode == "chat" else "completions"
        try:
            return self.client.post(route, body, self._text)
        except EndpointError as exc:
            raise SmolsqlError(f"{self.name}: {exc}") from None

    def _text(self, payload: dict) -> str:
        choice = payload["choices"][0]
        text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
        if not isinstance(text, str):
            raise TypeError("no text in the choice")
        return text.split(END_OF_TURN)[0]
