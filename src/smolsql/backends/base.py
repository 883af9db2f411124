"""The protocol every generation backend speaks, and the one record of generation settings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smolsql.errors import SmolsqlError
from smolsql.schema import approx_tokens


@dataclass(frozen=True)
class GenerationSettings:
    """How a backend generates: length, batching, sampling for candidates, llama.cpp knobs."""

    max_new_tokens: int = 256
    """SQL rarely needs more; a runaway completion is cut here."""
    batch_size: int = 8
    """Prompts generated together (transformers, concurrent requests for openai)."""
    temperature: float = 0.5
    """Sampling temperature for candidates (the first answer is always greedy); 0.5 measured
    best of 0.3, 0.5, 0.7 and 1.0 on Spider validation (README)."""
    top_p: float = 0.95
    """Nucleus sampling for candidates: the smallest set of tokens holding this much mass."""
    seed: int = 0
    """Candidates are a function of (seed, prompt): the same question gets the same ones."""
    prefix_cache: int = 8
    """llama.cpp: schema prefixes kept computed (0: none, not even the last one)."""
    threads: int | None = None
    """llama.cpp: CPU threads (None: all cores)."""
    lookahead: int = 0
    """llama.cpp: prompt-lookup draft tokens verified per greedy step (0: plain greedy)."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise SmolsqlError("max_new_tokens must be at least 1")
        if not 0 < self.top_p <= 1:
            raise SmolsqlError("top_p must be in (0, 1]")
        if self.temperature < 0:
            raise SmolsqlError("temperature must be 0 or more")


class Backend:
    """What every backend is: a name, greedy `generate`, and the capabilities it declares.

    `can_sample` says whether `sample` gives candidates (without it, answers stay
    greedy); `count_tokens` counts in the model's own tokens where the backend has its
    tokenizer, and estimates from characters otherwise. Callers read the declarations
    and never probe for methods; `load_backend` wraps a factory's object that is not a
    Backend once, recording what it offers (`Declared`).
    """

    name: str = "model"
    """The model's name, as reports and the app show it."""
    can_sample: bool = False
    """Whether `sample` gives candidates."""
    can_score: bool = False
    """Whether `score` says how likely the model finds given completions."""

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """One greedy completion per prompt, in order, without the prompt and the stop marker."""
        raise NotImplementedError

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        """`n` sampled completions per prompt (settings' temperature, top_p, seed), in order.

        `max_new_tokens` shortens the settings' limit for these samples when given.
        """
        raise SmolsqlError(f"{self.name} does not sample candidates")

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        """Each completion's mean log-probability per token after `prompt`, in nats.

        Its end-of-turn marker counts as a token, so an answer the model would have
        gone on writing scores lower. The choosing stage can weigh answers by it
        (`ChoiceSettings.likelihood_weight`).
        """
        raise SmolsqlError(f"{self.name} does not score completions")

    def count_tokens(self, text: str) -> int:
        """Tokens in `text`: the schema budget and the samples' length limit are in these."""
        return approx_tokens(text)


class Declared(Backend):
    """A factory's object that does not subclass Backend: what it offers, found once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.can_sample = callable(getattr(inner, "sample", None))
        self.can_score = callable(getattr(inner, "score", None))
        self._count = getattr(inner, "count_tokens", None)

    def generate(self, prompts: Sequence[str]) -> list[str]:
        return self.inner.generate(prompts)

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        if not self.can_sample:
            return super().sample(prompts, n, max_new_tokens)
        return self.inner.sample(prompts, n, max_new_tokens)

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        if not self.can_score:
            return super().score(prompt, completions)
        return self.inner.score(prompt, completions)

    def count_tokens(self, text: str) -> int:
        return self._count(text) if callable(self._count) else super().count_tokens(text)


def prompt_seed(seed: int, prompt: str) -> int:
    """A 63-bit seed from the settings' seed and the prompt, stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
