"""The records that flow between stages: an `Example` in, a `Prediction` out.

Every stage (load data, train, predict, evaluate, serve) passes these frozen
dataclasses, and every file between stages is JSON Lines of them, so a field
that a stage needs is always written down here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from smolsql.errors import SmolsqlError


@dataclass(frozen=True)
class Solved:
    """A question already answered on a database, with its checked SQL (`smolsql.solved`)."""

    question: str
    sql: str


@dataclass(frozen=True)
class Kept:
    """An answer a person checked and kept for their database (`smolsql.kept`).

    Kept answers go back into prompts as `Solved` examples; `id` names one to remove.
    """

    id: str
    question: str
    sql: str
    at: str
    """When it was kept: ISO 8601, UTC."""
    by: str
    """Where it was kept: app, api, cli or import."""

    def solved(self) -> Solved:
        return Solved(self.question, self.sql)


@dataclass(frozen=True)
class Example:
    """One question about one database, with the reference SQL when it is known."""

    question: str
    schema: str = ""
    """Schema text for the prompt (rendered DDL); empty when `db_path` supplies it."""
    sql: str | None = None
    """The reference (gold) SQL; None at serving time."""
    db_path: str | None = None
    """A database file or SQLAlchemy URL the SQL runs against, when there is one."""
    dialect: str = "sqlite"
    """The sqlglot dialect the SQL is written in."""
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free metadata carried along (db_id, domain, sql_complexity, ...)."""
    setup_sql: str | None = None
    """SQL that builds the database in memory when there is no file (gretel's sql_context)."""
    hints: tuple[str, ...] = ()
    """Database values the question names (`table.column = 'Value'`), when asked for."""
    solved: tuple[Solved, ...] = ()
    """Other questions on the same database with their SQL, shown first (`smolsql.solved`)."""
    linked_schema: str = ""
    """`schema` cut to the tables the question needs (`smolsql.link`), when linking cut it:
    the prompt shows this, and the choosing stage also samples from the whole `schema`."""
    whole_first: bool = False
    """With a `linked_schema`: the prompt shows the whole `schema` instead, and the choosing
    stage also samples from the linked one (schemas too short to lead with it)."""


CandidateStatus = Literal["unchecked", "rows", "empty", "valid", "invalid", "failed", "skipped"]
"""rows | empty | failed (the guard or the database refused it) | invalid (the checks alone,
no database: it names something the schema lacks) | valid (checks alone, passed) | skipped
(the time budget ran out) | unchecked"""
RAN: frozenset[CandidateStatus] = frozenset({"rows", "empty"})
"""It ran on the database, with rows or without."""
FAILED: frozenset[CandidateStatus] = frozenset({"failed", "invalid"})
"""Refused, failed or naming what the schema lacks: a repair may help."""

Execution = Literal["correct", "wrong", "pred_error", "gold_error", "no_sql", "no_db", "no_gold"]
NOT_SCORED: frozenset[Execution] = frozenset({"gold_error", "no_db", "no_gold"})
"""Nothing to compare against: left out of execution accuracy's denominator."""
MISSED: frozenset[Execution] = frozenset({"wrong", "pred_error", "no_sql"})
"""Scored and not correct: the report's failures."""


@dataclass(frozen=True)
class Candidate:
    """One answer the model wrote for a question, and what checking and running it gave."""

    sql: str
    raw: str = ""
    status: CandidateStatus = "unchecked"
    detail: str = ""
    """Why it failed: the guard's or the database's message, or the problems found."""
    rows: int = 0
    """Rows it returned (up to the row limit)."""
    votes: int = 0
    """Candidates (itself included) whose result is the same answer as its own."""
    repair_of: int | None = None
    """When this is a repair (`smolsql.sql.repair`): the index of the candidate it repairs."""
    same_as: int | None = None
    """When it ran: the index of the first candidate whose result is the same answer."""
    whole_schema: bool = False
    """Written from the prompt with the whole schema, where linking had cut it."""
    likelihood: float | None = None
    """Where answers that ran disagreed: the model's mean log-probability per token of it
    after the prompt with the whole schema (`smolsql.choose`)."""

    @property
    def ran(self) -> bool:
        """It ran on the database (with rows or without)."""
        return self.status in RAN


@dataclass(frozen=True)
class Prediction:
    """What a model answered for one `Example`, and how long it took."""

    example: Example
    sql: str
    """The extracted, pretty-printed SQL statement ('' when none could be extracted)."""
    raw: str = ""
    """The model's completion before extraction."""
    model: str = ""
    latency_ms: float = 0.0
    candidates: tuple[Candidate, ...] = ()
    """Everything tried, greedy first; empty when only the greedy answer was made."""
    chosen: int = 0
    """Index of the answer in `candidates` (0: the greedy answer)."""


@dataclass(frozen=True)
class Verdict:
    """An LLM judge's verdict on one prediction."""

    correct: bool
    error_type: str | None = None
    """incomplete | irrelevant | logic_error, or None when correct."""
    explanation: str = ""
    failed: bool = False
    """The judge gave no usable verdict (after retries): counted as judge_failed."""


@dataclass(frozen=True)
class Score:
    """How one `Prediction` fared against its example's gold SQL."""

    prediction: Prediction
    syntax_valid: bool
    """sqlglot parses the predicted SQL in the example's dialect."""
    exact_match: bool
    """Same SQL as the gold after sqlglot normalization."""
    execution: Execution
    empty_result: bool = False
    """Correct, but both results are empty (any empty result would have matched)."""
    detail: str = ""
    """The error message behind pred_error or gold_error."""
    judge: Verdict | None = None
    candidate_execution: tuple[Execution, ...] = ()
    """`execution` of each of the prediction's candidates (greedy first), when it has them."""


R = TypeVar("R", Example, Prediction, Score, Kept)


Record = Example | Prediction | Score | Kept


def to_dict(record: Record) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _from_dict(cls: type, data: Any, nested: dict[str, Any]) -> Any:
    """Build record `cls` from JSON data, naming any field it does not have."""
    if not isinstance(data, dict):
        raise SmolsqlError(f"a {cls.__name__} must be a JSON object")
    body = dict(data)
    for name, reader in nested.items():
        if isinstance(body.get(name), (dict, list)):
            body[name] = reader(body[name])
    unknown = set(body) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise SmolsqlError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
    try:
        return cls(**body)
    except TypeError as exc:
        raise SmolsqlError(f"not a {cls.__name__}: {exc}") from None


def _list_of(cls: type, owner: str, field_name: str) -> Any:
    """A reader of a JSON list of `cls` records, one field of an `owner` record."""

    def read(items: Any) -> tuple:
        if not isinstance(items, list):
            raise SmolsqlError(f"a {owner}'s {field_name} must be a JSON list")
        return tuple(_from_dict(cls, item, {}) for item in items)

    return read


def example_from_dict(data: dict[str, Any]) -> Example:
    if isinstance(data, dict) and not isinstance(data.get("question"), str):
        raise SmolsqlError("an Example needs a 'question' string")
    nested = {"hints": tuple, "solved": _list_of(Solved, "Example", "solved")}
    return _from_dict(Example, data, nested)


def prediction_from_dict(data: dict[str, Any]) -> Prediction:
    nested = {
        "example": example_from_dict,
        "candidates": _list_of(Candidate, "Prediction", "candidates"),
    }
    return _from_dict(Prediction, data, nested)


def score_from_dict(data: dict[str, Any]) -> Score:
    nested = {
        "prediction": prediction_from_dict,
        "judge": lambda d: _from_dict(Verdict, d, {}),
        "candidate_execution": tuple,
    }
    return _from_dict(Score, data, nested)


def kept_from_dict(data: dict[str, Any]) -> Kept:
    for name in ("id", "question", "sql"):
        if isinstance(data, dict) and not (isinstance(data.get(name), str) and data[name].strip()):
            raise SmolsqlError(f"a kept answer needs a non-empty {name!r} string")
    return _from_dict(Kept, data, {})


_READERS = {
    Example: example_from_dict,
    Prediction: prediction_from_dict,
    Score: score_from_dict,
    Kept: kept_from_dict,
}


def write_jsonl(path: str | Path, records: Iterable[Record]) -> int:
    """Write records one JSON object a line, atomically; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(to_dict(record), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def append_jsonl(path: str | Path, records: Iterable[Record]) -> None:
    """Append records, flushing each, so an interrupted run keeps what it finished."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(to_dict(record), ensure_ascii=False) + "\n")
            f.flush()


def read_jsonl(path: str | Path, kind: type[R]) -> Iterator[R]:
    """Read records of `kind`; a malformed line is an error naming the file and line."""
    reader = _READERS[kind]
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SmolsqlError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError:
            raise SmolsqlError(f"{path}: not UTF-8 text") from None
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SmolsqlError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(data, dict):
                raise SmolsqlError(f"{path}:{lineno}: expected a JSON object")
            try:
                yield reader(data)
            except SmolsqlError as exc:
                raise SmolsqlError(f"{path}:{lineno}: {exc}") from None
