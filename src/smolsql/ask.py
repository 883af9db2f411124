"""Asking a question about a database: the one function the CLI, the API and the app call.

Schema in (a live database or DDL text), one `Example` built, the greedy
`Prediction` made, the answer chosen among candidates (`smolsql.choose`), checked
against the schema, and optionally run read-only through the guard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from smolsql.backends.base import Backend
from smolsql.choose import ChoiceSettings, choose
from smolsql.db import DEFAULT_LIMITS, Database, Limits, Result
from smolsql.errors import SmolsqlError, read_text
from smolsql.hints import value_hints as value_hints_for
from smolsql.link import LinkSettings, linked_schema
from smolsql.predict import predict
from smolsql.records import Example, Prediction, Solved
from smolsql.schema import DEFAULT_SCHEMA_TOKENS, Schema, parse_ddl, render_schema
from smolsql.solved import most_similar
from smolsql.sql.checks import find_problems
from smolsql.sql.run import run_sql

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Answer:
    prediction: Prediction
    problems: tuple[str, ...] = ()
    """What is wrong with the SQL as far as we can tell without running it."""
    notes: tuple[str, ...] = ()
    """What the user should know (tables left out of the prompt, ...)."""
    result: Result | None = None
    run_error: str | None = None
    """Why running the SQL failed (refused by the guard, rejected by the database)."""

    @property
    def sql(self) -> str:
        return self.prediction.sql

    def require_sql(self) -> str:
        """The SQL, or an error quoting what the model said instead."""
        if not self.sql:
            said = self.prediction.raw.strip()[:200]
            raise SmolsqlError(f"the model gave no SQL; it said: {said!r}")
        return self.sql

    @property
    def valid(self) -> bool:
        return bool(self.prediction.sql) and not self.problems


def validate_question(question: str) -> str:
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise SmolsqlError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise SmolsqlError(f"the question is {len(text)} characters; at most {MAX_QUESTION_CHARS}")
    if "\x00" in text:
        raise SmolsqlError("the question contains binary data")
    return text


def read_schema_file(path: str | Path, dialect: str = "sqlite") -> Schema:
    return parse_ddl(read_text(path, "schema file"), dialect)


def build_example(
    question: str,
    schema: Schema,
    db_path: str | None = None,
    max_schema_tokens: int | None = DEFAULT_SCHEMA_TOKENS,
    count_tokens: Callable[[str], int] | None = None,
    hints: tuple[str, ...] = (),
    solved: tuple[Solved, ...] = (),
    link: LinkSettings | None = None,
    values: Sequence[str] = (),
) -> tuple[Example, tuple[str, ...]]:
    """The `Example` for a question, and notes on what linking and the budget left out.

    With `link`, the prompt shows the tables `smolsql.link` picks for the question
    (`values`, the database values it names, help pick them).
    """
    question = validate_question(question)
    notes = []
    whole = render_schema(schema, question, max_schema_tokens, count_tokens)
    shown, cut = linked_schema(schema, question, values, link) if link else (schema, ())
    linked = None
    whole_first = bool(cut) and link is not None and not link.leads(schema)
    if cut:
        linked = render_schema(shown, question, max_schema_tokens, count_tokens)
        notes.append(
            f"schema linking: the prompt shows all {len(schema.tables)} tables (candidates "
            f"also see only the {len(shown.tables)} the question is about)"
            if whole_first
            else f"schema linking: the prompt shows {len(shown.tables)} of {len(schema.tables)} "
            "tables, those the question is about (candidates also see them all)"
        )
    prompt = whole if whole_first else linked or whole
    if prompt.dropped_tables:
        dropped = prompt.dropped_tables
        listed = ", ".join(dropped[:8]) + (", ..." if len(dropped) > 8 else "")
        notes.append(
            f"schema too long for the prompt: left out {len(dropped)} of "
            f"{len(shown.tables)} tables least related to the question ({listed})"
        )
    if prompt.truncated_tables:
        notes.append(f"columns left out of table {prompt.truncated_tables[0]}")
    example = Example(
        question,
        whole.text,
        None,
        db_path,
        schema.dialect,
        hints=hints,
        solved=solved,
        linked_schema=linked.text if linked else "",
        whole_first=whole_first,
    )
    return example, tuple(notes)


def ask(
    backend: Backend,
    question: str,
    schema: Schema,
    db: Database | None = None,
    run: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    max_schema_tokens: int | None = DEFAULT_SCHEMA_TOKENS,
    choice: ChoiceSettings | None = None,
    value_hints: bool = False,
    solved: Sequence[Solved] = (),
    link: LinkSettings | None = None,
) -> Answer:
    """Answer one question; with `run`, also run the SQL on `db` read-only.

    `choice` sets the candidates (default: `ChoiceSettings()`; 1 candidate is the
    greedy answer alone, never run unless `run`). `value_hints` puts values from `db`
    that the question names in the prompt (for a model trained with them). `solved`
    holds questions answered before on this database; the most similar go in the prompt.
    `link` shows the prompt only the tables the question needs (`smolsql.link`); the
    answer is still checked and repaired against the whole schema.
    """
    if run and db is None:
        raise SmolsqlError("there is no database to run the SQL on")
    linking = link is not None and link.applies_to(schema)  # else no values to look up
    values = value_hints_for(db, schema, question) if (value_hints or linking) and db else ()
    shown = most_similar(question, solved)
    example, notes = build_example(
        question,
        schema,
        db.label if db else None,
        max_schema_tokens,
        backend.count_tokens,
        values if value_hints else (),
        shown,
        link,
        values,
    )
    if shown:
        notes += (f"{len(shown)} of {len(solved)} solved examples in the prompt, the most similar",)
    greedy = predict(backend, [example])[0]
    choice = choice or ChoiceSettings()  # candidates keep to the caller's row and time limits
    timeout_s = min(choice.limits.timeout_s, limits.timeout_s)
    choice = replace(choice, limits=replace(limits, timeout_s=timeout_s))
    prediction, result = choose(backend, greedy, schema, db, choice)
    problems = find_problems(prediction.sql, schema)
    if not run or not prediction.sql:
        return Answer(prediction, problems, notes)
    if result is not None:  # the chosen candidate already ran, through the same door
        return Answer(prediction, problems, notes, result)
    try:
        return Answer(prediction, problems, notes, run_sql(db, prediction.sql, limits))
    except SmolsqlError as exc:  # the SQL is still worth showing, with why it did not run
        return Answer(prediction, problems, notes, run_error=str(exc))
