"""The one prompt format, shared by training, evaluation and serving.

ChatML, as SmolLM2's tokenizer speaks it, written out here rather than taken
from a tokenizer's chat template, so every model sees byte-identical prompts.
The schema comes first, in the system turn: every question about one database
then shares the same prefix, which the serving backends can compute once.
The completion is the SQL followed by the end-of-turn marker; training teaches
the model to emit that marker, and generation stops on it. `extract_sql` is the way
back: one clean statement out of whatever a completion holds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from smolsql.sql.dialects import dialect_title
from smolsql.sql.text import first_statement, longest_parsing_prefix

if TYPE_CHECKING:
    from smolsql.records import Example, Solved

END_OF_TURN = "<|im_end|>"
START_OF_TURN = "<|im_start|>"


def prompt_prefix(schema: str, dialect: str = "sqlite") -> str:
    """Everything before the question: identical for all questions on one schema."""
    instruction = f"You write {dialect_title(dialect)} queries."
    if schema.strip():
        instruction += f" Schema:\n{schema.strip()}"
    return f"{START_OF_TURN}system\n{instruction}{END_OF_TURN}\n"


def build_prompt(
    question: str,
    schema: str,
    dialect: str = "sqlite",
    hints: tuple[str, ...] = (),
    solved: tuple[Solved, ...] = (),
) -> str:
    """The full prompt; the model's answer starts right after it.

    `solved` (questions answered before on this database, see `smolsql.solved`)
    come first, each as a user turn and the assistant's SQL: the same turns the
    model is trained on. `hints` (database values the question names, see
    `smolsql.hints`) follow the question in its user turn. Both come after the
    system turn, so the schema prefix stays the same for every question.
    """
    values = f"\nValues: {'; '.join(hints)}" if hints else ""
    earlier = "".join(
        _user_turn(s.question) + f"{START_OF_TURN}assistant\n{build_completion(s.sql)}\n"
        for s in solved
    )
    return (
        prompt_prefix(schema, dialect)
        + earlier
        + _user_turn(question, values)
        + f"{START_OF_TURN}assistant\n"
    )


def _user_turn(question: str, extra: str = "") -> str:
    return f"{START_OF_TURN}user\nWrite a SQL query for: {question.strip()}{extra}{END_OF_TURN}\n"


def example_prompt(example: Example, whole: bool | None = None) -> str:
    """The prompt for an `Example`, as training, evaluation and serving all build it.

    It shows the schema the example is asked with first: the linked one when the example
    has one (`smolsql.link`) and does not put the whole one first. `whole` picks: the whole
    schema (True) or the linked one where there is one (False).
    """
    if whole is None:
        whole = example.whole_first
    schema = example.schema if whole or not example.linked_schema else example.linked_schema
    return build_prompt(example.question, schema, example.dialect, example.hints, example.solved)


def build_completion(sql: str) -> str:
    """The training target for one question: the SQL, then the end-of-turn marker."""
    return sql.strip().rstrip(";").strip() + END_OF_TURN


def shared_prefix(prompt: str) -> str:
    """The part of `prompt` every question on its schema shares (the system turn), or ''.

    Everything from the first user turn on (solved examples, the question) is the
    question's own.
    """
    marker = f"{START_OF_TURN}user\n"
    cut = prompt.find(marker)
    return prompt[:cut] if cut > 0 else ""


def prompt_messages(prompt: str) -> list[dict[str, str]]:
    """`prompt`'s finished turns as chat messages, for endpoints that apply their own template."""
    messages = []
    for turn in prompt.split(START_OF_TURN)[1:]:
        role, _, content = turn.partition("\n")
        if END_OF_TURN in content:
            messages.append({"role": role, "content": content.split(END_OF_TURN)[0]})
    return messages


_STOP_MARKERS = (END_OF_TURN, START_OF_TURN, "<|endoftext|>", "</s>")
_FENCE = re.compile(
    r"```(?:sql|sqlite|postgres|postgresql|mysql)?\s*\n?(.*?)(?:```|$)", re.S | re.I
)
_SQL_START = re.compile(
    r"\b(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|EXPLAIN|VALUES)\b", re.I
)


def extract_sql(completion: str, dialect: str = "sqlite") -> str:
    """The first SQL statement in a completion, without fences, chatter or semicolon.

    Returns '' when the completion holds nothing that looks like SQL.
    """
    text = completion
    for marker in _STOP_MARKERS:
        text = text.split(marker, 1)[0]
    fence = _FENCE.search(text)
    if fence:
        text = fence.group(1)
    start = _SQL_START.search(text)
    if not start:
        return ""
    text = first_statement(text[start.start() :], dialect)
    text = text.split("\n\n", 1)[0].strip()
    return longest_parsing_prefix(text, dialect)
