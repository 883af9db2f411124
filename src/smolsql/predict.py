"""The predict stage: `Example`s in, `Prediction`s out, through any backend.

Greedy answers for a whole batch in one `generate` call, then, with more than
one candidate, the choosing stage (`smolsql.choose`) for each example, against
the example's own database when it has one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from smolsql.backends.base import Backend
from smolsql.choose import ChoiceSettings, choose
from smolsql.db import Database, open_database
from smolsql.errors import SmolsqlError
from smolsql.prompt import example_prompt, extract_sql
from smolsql.records import Example, Prediction, append_jsonl, read_jsonl
from smolsql.schema import Schema, parse_ddl
from smolsql.sql.text import pretty_sql
from smolsql.terminal import Progress


def predict(
    backend: Backend, examples: Sequence[Example], choice: ChoiceSettings | None = None
) -> list[Prediction]:
    """Generate for all examples in one call, so the backend can batch them; then choose.

    `latency_ms` is the greedy call's wall time shared out evenly over its examples,
    plus each example's own time choosing among candidates.
    """
    if not examples:
        return []
    start = time.perf_counter()
    completions = backend.generate([example_prompt(e) for e in examples])
    latency = (time.perf_counter() - start) * 1000 / len(examples)
    predictions = []
    for example, raw in zip(examples, completions, strict=True):
        sql = pretty_sql(extract_sql(raw, example.dialect), example.dialect)
        predictions.append(Prediction(example, sql, raw, backend.name, latency))
    if choice is None or choice.candidates == 1:
        return predictions
    with ExitStack() as stack:
        databases: dict[str, tuple[Database, Schema]] = {}
        chosen = []
        for prediction in predictions:
            db, schema = _where(prediction.example, databases, stack)
            chosen.append(choose(backend, prediction, schema, db, choice)[0])
    return chosen


def _where(
    example: Example, databases: dict[str, tuple[Database, Schema]], stack: ExitStack
) -> tuple[Database | None, Schema | None]:
    """The example's database (opened once per batch) and schema; None for what it lacks."""
    if example.db_path and example.db_path not in databases:
        try:
            db = stack.enter_context(open_database(example.db_path))
            databases[example.db_path] = (db, db.schema())
        except SmolsqlError:
            pass  # a database that will not open: the checks alone, on the schema text
    if example.db_path in databases:
        return databases[example.db_path]
    try:
        return None, parse_ddl(example.schema, example.dialect)
    except SmolsqlError:
        return None, None  # no usable schema text: candidates are judged on parsing alone


def predict_to_file(
    backend: Backend,
    examples: Sequence[Example],
    path: str | Path,
    batch_size: int = 16,
    choice: ChoiceSettings | None = None,
) -> list[Prediction]:
    """Predict into a JSONL file batch by batch; a rerun skips the examples already there."""
    path = Path(path)
    done = list(read_jsonl(path, Prediction)) if path.exists() else []
    seen = {p.example.id for p in done}
    todo = [e for e in examples if e.id not in seen]
    progress = Progress("predict", len(examples), start=len(examples) - len(todo))
    for start in range(0, len(todo), batch_size):
        batch = predict(backend, todo[start : start + batch_size], choice)
        append_jsonl(path, batch)
        done.extend(batch)
        progress.advance(len(batch))
    progress.close()
    order = {e.id: i for i, e in enumerate(examples)}
    return sorted((p for p in done if p.example.id in order), key=lambda p: order[p.example.id])
