"""The protocol every generation backend speaks: prompts in, completions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int = 256
    """SQL rarely needs more; a runaway completion is cut here."""
    batch_size: int = 8


@runtime_checkable
class Backend(Protocol):
    """Anything that turns prompts into completions, greedily, stopping at end of turn."""

    name: str
    """The model's name, as reports and the app show it."""

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """One completion per prompt, in order, without the prompt and the stop marker."""
        ...
