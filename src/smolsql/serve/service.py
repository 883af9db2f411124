"""What the HTTP API and the web app share: one model, named databases, the `ask` functions.

The model is one object in memory; `Serialized` queues callers so two requests
never interleave inside it. Databases are named when the server starts, so a
client can only ask about what the operator chose to expose, never a path.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from smolsql.ask import Answer, ask, validate_question
from smolsql.backends.base import Backend
from smolsql.choose import ChoiceSettings
from smolsql.data.sample import NAME as SAMPLE_NAME
from smolsql.data.sample import open_target
from smolsql.db import Database, Limits
from smolsql.errors import SmolsqlError
from smolsql.kept import KeptAnswers
from smolsql.link import LinkSettings
from smolsql.records import Example, Kept, Prediction, Solved
from smolsql.schema import parse_ddl
from smolsql.sql.checks import find_problems
from smolsql.sql.run import run_sql
from smolsql.sql.text import dialect_name

MAX_ROWS_LIMIT = 10_000
PERSON = "(written by a person)"
"""The model name on SQL a person wrote or edited."""


class UnknownDatabase(SmolsqlError):
    pass


class Serialized(Backend):
    """A backend that lets one caller in at a time; the others wait their turn."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.name = backend.name
        self.can_sample = backend.can_sample
        self.can_score = backend.can_score
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)  # the tokenizer alone: no lock needed

    def generate(self, prompts: Sequence[str]) -> list[str]:
        with self._lock:
            return self.backend.generate(prompts)

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        with self._lock:
            return self.backend.sample(prompts, n, max_new_tokens)

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        with self._lock:
            return self.backend.score(prompt, completions)


def parse_database_args(values: Sequence[str]) -> dict[str, str]:
    """`--db NAME=TARGET` (or a bare `sample`, or a bare path named after its file)."""
    databases: dict[str, str] = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep:
            target = value
            name = SAMPLE_NAME if value == SAMPLE_NAME else value.rsplit("/", 1)[-1].split(".")[0]
        if not name or not target:
            raise SmolsqlError(f"--db {value!r}: write NAME=FILE_OR_URL")
        if name in databases:
            raise SmolsqlError(f"two databases are named {name!r}")
        databases[name] = target
    return databases


@dataclass
class Service:
    backend: Backend
    databases: dict[str, str] = field(default_factory=lambda: {SAMPLE_NAME: SAMPLE_NAME})
    limits: Limits = field(default_factory=Limits)
    """Each query's limits; a request may ask for fewer rows, or more up to MAX_ROWS_LIMIT."""
    choice: ChoiceSettings = field(default_factory=ChoiceSettings)
    """Candidates per question unless a request says otherwise."""
    value_hints: bool = False
    """Database values the question names go in the prompt (a model trained with them)."""
    solved: dict[str, tuple[Solved, ...]] = field(default_factory=dict)
    """Questions answered before, by database name: the most similar go in the prompt."""
    use_kept: bool = False
    """The answers people kept for a database (`smolsql.kept`) go in its prompts, where no
    file of solved examples was given for it (`smolsql.kept.use_kept` decides)."""
    link: LinkSettings | None = None
    """Prompts show the tables each question needs (`smolsql.link`); None: the whole schema."""

    def __post_init__(self) -> None:
        if not isinstance(self.backend, Serialized):
            self.backend = Serialized(self.backend)
        for name in self.databases:  # fail at start-up, not at the first question
            self.open(name).close()
        for name in self.solved:
            if name not in self.databases:
                raise UnknownDatabase(f"solved examples for {name!r}, which is not served")

    def open(self, name: str) -> Database:
        if name not in self.databases:
            known = ", ".join(sorted(self.databases)) or "none"
            raise UnknownDatabase(f"unknown database {name!r}; this server has: {known}")
        return open_target(self.databases[name])

    def sql(
        self,
        question: str,
        database: str | None = None,
        schema: str | None = None,
        dialect: str | None = None,
        candidates: int | None = None,
        solved: Sequence[Solved] | None = None,
    ) -> Answer:
        """The SQL for `question` about a named database, or about a schema given as DDL.

        `solved` (the request's own answered questions) takes the place of the server's.
        """
        validate_question(question)
        if dialect:
            dialect_name(dialect)  # unknown: said before the model runs
        if (database is None) == (schema is None):
            raise SmolsqlError("give exactly one of database (a name) or schema (DDL text)")
        choice = self._choice(candidates)
        if schema is not None:
            parsed = parse_ddl(schema, dialect or "sqlite")
            return ask(
                self.backend, question, parsed, choice=choice, solved=solved or (), link=self.link
            )
        with self.open(database) as db:  # type: ignore[arg-type]
            return ask(
                self.backend,
                question,
                db.schema(),
                db,
                choice=choice,
                value_hints=self.value_hints,
                solved=self._solved(database, solved),  # type: ignore[arg-type]
                link=self.link,
            )

    def _solved(self, database: str, given: Sequence[Solved] | None) -> Sequence[Solved]:
        if given is not None:
            return given
        if database in self.solved:
            return self.solved[database]
        return self.kept(database).solved() if self.use_kept else ()

    def kept(self, database: str) -> KeptAnswers:
        """The answers people kept for a served database."""
        if database not in self.databases:
            self.open(database)  # the error that names the databases there are
        return KeptAnswers.of(self.databases[database])

    def keep(self, database: str, question: str, sql: str, by: str) -> Kept:
        """Keep a checked answer, once it has run read-only on the database."""
        validate_question(question)
        with self.open(database) as db:
            store = KeptAnswers.of(self.databases[database], dialect=db.dialect)
            return store.add_if_it_runs(db, question, sql, by, self.limits)

    def _choice(self, candidates: int | None) -> ChoiceSettings:
        return self.choice if candidates is None else replace(self.choice, candidates=candidates)

    def query(
        self,
        database: str,
        question: str | None = None,
        sql: str | None = None,
        max_rows: int | None = None,
        candidates: int | None = None,
        solved: Sequence[Solved] | None = None,
    ) -> Answer:
        """Run the model's SQL for `question`, or `sql` a person wrote, read-only.

        The guard or the database refusing the SQL is an error here: the caller asked
        for rows, and gets the reason there are none.
        """
        if (question is None) == (sql is None):
            raise SmolsqlError("give exactly one of question or sql")
        limits = replace(
            self.limits, max_rows=min(max_rows or self.limits.max_rows, MAX_ROWS_LIMIT)
        )
        with self.open(database) as db:
            schema = db.schema()
            if question is not None:
                answer = ask(
                    self.backend,
                    question,
                    schema,
                    db,
                    run=True,
                    limits=limits,
                    choice=self._choice(candidates),
                    value_hints=self.value_hints,
                    solved=self._solved(database, solved),
                    link=self.link,
                )
                answer.require_sql()
                if answer.run_error:
                    raise SmolsqlError(answer.run_error)
                return answer
            example = Example("", "", sql, db.label, db.dialect)
            prediction = Prediction(example, sql or "", sql or "", PERSON)
            answer = Answer(prediction, find_problems(sql or "", schema))
            return replace(answer, result=run_sql(db, sql or "", limits))
