"""Asking a question about a database: the one function the CLI, the API and the app call.

Schema in (a live database or DDL text), one `Example` built, one `Prediction`
out, checked against the schema, and optionally run read-only through the guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from smolsql.backends.base import Backend
from smolsql.db import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, Database, Result
from smolsql.errors import SmolsqlError
from smolsql.guard import Refused, check_sql
from smolsql.predict import predict
from smolsql.records import Example, Prediction
from smolsql.schema import Schema, parse_ddl, render_schema

MAX_QUESTION_CHARS = 2000
DEFAULT_SCHEMA_TOKENS = 1536
"""Schema budget: SmolLM2 was trained on 8k contexts, but a 135M model reads short ones best."""


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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SmolsqlError(f"schema file not found: {path}") from None
    except UnicodeDecodeError:
        raise SmolsqlError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise SmolsqlError(f"cannot read {path}: {exc.strerror}") from None
    return parse_ddl(text, dialect)


def build_example(
    question: str,
    schema: Schema,
    db_path: str | None = None,
    max_schema_tokens: int | None = DEFAULT_SCHEMA_TOKENS,
    count_tokens: Callable[[str], int] | None = None,
) -> tuple[Example, tuple[str, ...]]:
    """The `Example` for a question, and notes on what the schema budget left out."""
    question = validate_question(question)
    rendered = render_schema(schema, question, max_schema_tokens, count_tokens)
    notes = []
    dropped = rendered.dropped_tables
    if dropped:
        shown = ", ".join(dropped[:8]) + (", ..." if len(dropped) > 8 else "")
        notes.append(
            f"schema too long for the prompt: left out {len(dropped)} of "
            f"{len(schema.tables)} tables least related to the question ({shown})"
        )
    if rendered.truncated_tables:
        notes.append(f"columns left out of table {rendered.truncated_tables[0]}")
    example = Example(question, rendered.text, None, db_path, schema.dialect)
    return example, tuple(notes)


def find_problems(sql: str, schema: Schema) -> tuple[str, ...]:
    """Checks short of running: it parses, and names only tables and columns that exist."""
    if not sql:
        return ("the model's answer holds no SQL",)
    try:
        tree = check_sql(sql, schema.dialect, rules=())
    except Refused as exc:
        return (exc.reason,)
    problems = []
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    known_tables = {t.name.lower() for t in schema.tables}
    for table in tree.find_all(exp.Table):
        if table.name and table.name.lower() not in known_tables | ctes:
            problems.append(f"unknown table {table.name}")
    known_columns = {c.name.lower() for t in schema.tables for c in t.columns}
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    # SQLite reads a double-quoted name that matches no column as a string ("Lisbon").
    string_fallback = schema.dialect == "sqlite"
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if not name or name in known_columns | aliases or isinstance(column.this, exp.Star):
            continue
        if string_fallback and column.this.args.get("quoted") and not column.table:
            continue
        problems.append(f"unknown column {column.name}")
    return tuple(dict.fromkeys(problems))


def run_sql(
    db: Database, sql: str, max_rows: int = DEFAULT_MAX_ROWS, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Result:
    """The one door for running SQL: the guard first, then the read-only connection."""
    check_sql(sql, db.dialect)
    return db.execute(sql, max_rows=max_rows, timeout_s=timeout_s)


def ask(
    backend: Backend,
    question: str,
    schema: Schema,
    db: Database | None = None,
    run: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_schema_tokens: int | None = DEFAULT_SCHEMA_TOKENS,
) -> Answer:
    """Answer one question; with `run`, also run the SQL on `db` read-only."""
    example, notes = build_example(
        question, schema, db.label if db else None, max_schema_tokens, _counter(backend)
    )
    prediction = predict(backend, [example])[0]
    problems = find_problems(prediction.sql, schema)
    if not run or not prediction.sql:
        return Answer(prediction, problems, notes)
    if db is None:
        raise SmolsqlError("there is no database to run the SQL on")
    try:
        return Answer(prediction, problems, notes, run_sql(db, prediction.sql, max_rows, timeout_s))
    except SmolsqlError as exc:  # the SQL is still worth showing, with why it did not run
        return Answer(prediction, problems, notes, run_error=str(exc))


def _counter(backend: Backend) -> Callable[[str], int] | None:
    """The backend's token counter when it has one (the schema budget is in its tokens)."""
    return getattr(backend, "count_tokens", None)
