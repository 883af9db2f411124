"""A scripted backend speaking the real `Backend` protocol, for tests of all around the model."""

from __future__ import annotations

from collections.abc import Sequence

from smolsql.backends import GenerationOptions

# Completions by a word the question contains; the first match wins.
SCRIPT: dict[str, str] = {
    "how many artists": "SELECT count(*) FROM artist<|im_end|>",
    "lisbon": "Here you go:\n```sql\n"
    "SELECT name FROM customer WHERE city = 'Lisbon' ORDER BY name;\n```",
    "ghost": "SELECT name FROM ghosts WHERE spooky = 1",
    "drop": "DROP TABLE artist",
    "prose": "I am not sure what you mean.",
}


class ScriptedBackend:
    name = "scripted"

    def __init__(self, script: dict[str, str] | None = None) -> None:
        self.script = SCRIPT if script is None else script
        self.prompts: list[str] = []

    def generate(self, prompts: Sequence[str]) -> list[str]:
        self.prompts.extend(prompts)
        out = []
        for prompt in prompts:
            question = prompt.rsplit("Write a SQL query for:", 1)[-1].lower()
            out.append(next((v for k, v in self.script.items() if k in question), "SELECT 1"))
        return out


def scripted(model: str | None, options: GenerationOptions) -> ScriptedBackend:
    """The factory `smolsql ask --backend fakes:scripted` calls."""
    return ScriptedBackend()
