"""The predict stage: `Example`s in, `Prediction`s out, through any backend."""

from __future__ import annotations

import time
from collections.abc import Sequence

from smolsql.backends.base import Backend
from smolsql.prompt import build_prompt
from smolsql.records import Example, Prediction
from smolsql.sqltext import extract_sql, pretty_sql


def example_prompt(example: Example) -> str:
    return build_prompt(example.question, example.schema, example.dialect)


def predict(backend: Backend, examples: Sequence[Example]) -> list[Prediction]:
    """Generate for all examples in one call, so the backend can batch them.

    `latency_ms` is the call's wall time shared out evenly over its examples.
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
    return predictions
