"""Generation on any OpenAI-compatible server: vLLM, llama.cpp's server, TGI, Ollama, OpenAI.

For when one machine is not enough: serve the fine-tuned model elsewhere and
point smolsql at it. `completions` mode (the default) sends the exact prompt
smolsql trained on; `chat` mode sends it as messages, for servers that only
offer chat and apply the model's own template.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from smolsql.backends.base import Backend, GenerationSettings, prompt_seed
from smolsql.endpoint import Client, Endpoint, EndpointError
from smolsql.errors import SmolsqlError
from smolsql.prompt import END_OF_TURN, prompt_messages
from smolsql.settings import env

MODES = ("completions", "chat")


class OpenAIBackend(Backend):
    can_sample = True

    def __init__(
        self,
        endpoint: Endpoint,
        settings: GenerationSettings | None = None,
        mode: str = "completions",
    ) -> None:
        if mode not in MODES:
            raise SmolsqlError(f"unknown OpenAI mode {mode!r}; choose from {', '.join(MODES)}")
        self.client = Client(endpoint)
        self.settings = settings or GenerationSettings()
        self.mode = mode
        self.name = f"{endpoint.model} @ {endpoint.base_url}"

    @classmethod
    def from_env(
        cls, model: str | None, settings: GenerationSettings | None = None
    ) -> OpenAIBackend:
        """SMOLSQL_OPENAI_BASE_URL (or OPENAI_BASE_URL), _API_KEY, _MODE; `model` is served name."""
        base_url = env("SMOLSQL_OPENAI_BASE_URL") or env("OPENAI_BASE_URL") or ""
        model = model or env("SMOLSQL_OPENAI_MODEL") or ""
        if not base_url or not model:
            raise SmolsqlError(
                "the openai backend needs SMOLSQL_OPENAI_BASE_URL (e.g. http://localhost:8000/v1) "
                "and a served model name (--model or SMOLSQL_OPENAI_MODEL)"
            )
        key = env("SMOLSQL_OPENAI_API_KEY") or env("OPENAI_API_KEY") or ""
        endpoint = Endpoint(base_url, model, key, timeout_s=120.0)
        return cls(endpoint, settings, env("SMOLSQL_OPENAI_MODE") or "completions")

    def generate(self, prompts: Sequence[str]) -> list[str]:
        with ThreadPoolExecutor(max(1, self.settings.batch_size)) as pool:
            return [texts[0] for texts in pool.map(self._complete, prompts)]

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        """`n` choices per request (the `n` parameter), seeded per prompt where servers allow."""
        with ThreadPoolExecutor(max(1, self.settings.batch_size)) as pool:
            return list(pool.map(lambda p: self._complete(p, n, max_new_tokens), prompts))

    def _complete(self, prompt: str, n: int = 0, max_new_tokens: int | None = None) -> list[str]:
        """Greedy (n=0: one choice at temperature 0), or `n` sampled choices."""
        limit = self.settings.max_new_tokens
        body: dict = {
            "model": self.client.endpoint.model,
            "temperature": 0,
            "max_tokens": min(max_new_tokens or limit, limit),
            "stop": [END_OF_TURN],
        }
        if n:
            s = self.settings
            body.update(
                n=n,
                temperature=s.temperature,
                top_p=s.top_p,
                seed=prompt_seed(s.seed, prompt) % 2**31,
            )
        if self.mode == "chat":
            body["messages"] = prompt_messages(prompt)
        else:
            body["prompt"] = prompt
        route = "chat/completions" if self.mode == "chat" else "completions"
        try:
            texts = self.client.post(route, body, self._texts)
        except EndpointError as exc:
            raise SmolsqlError(f"{self.name}: {exc}") from None
        if len(texts) < max(n, 1):
            raise SmolsqlError(f"{self.name}: asked for {n} choices, the server sent {len(texts)}")
        return texts

    def _texts(self, payload: dict) -> list[str]:
        """The choices' texts in index order; a malformed payload is retried by the client."""
        choices = sorted(payload["choices"], key=lambda c: c.get("index", 0))
        texts = [c["message"]["content"] if self.mode == "chat" else c["text"] for c in choices]
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("no text in the choices")
        return [t.split(END_OF_TURN)[0] for t in texts]
