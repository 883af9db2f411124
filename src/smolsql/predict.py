"""The predict stage: `Example`s in, `Prediction`s out, through any backend."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from smolsql.backends.base import Backend
from smolsql.prompt import build_prompt
from smolsql.records import Example, Prediction, append_jsonl, read_jsonl
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


def predict_to_file(
    backend: Backend, examples: Sequence[Example], path: str | Path, batch_size: int = 16
) -> list[Prediction]:
    """Predict into a JSONL file batch by batch; a rerun skips the examples already there."""
    path = Path(path)
    done = list(read_jsonl(path, Prediction)) if path.exists() else []
    seen = {p.example.id for p in done}
    todo = [e for e in examples if e.id not in seen]
    progress = Progress("predict", len(examples), start=len(examples) - len(todo))
    for start in range(0, len(todo), batch_size):
        batch = predict(backend, todo[start : start + batch_size])
        append_jsonl(path, batch)
        done.extend(batch)
        progress.advance(len(batch))
    progress.close()
    order = {e.id: i for i, e in enumerate(examples)}
    return sorted((p for p in done if p.example.id in order), key=lambda p: order[p.example.id])


class Progress:
    """A one-line progress report on stderr (redrawn on a terminal, every 10% otherwise)."""

    def __init__(self, label: str, total: int, start: int = 0) -> None:
        self.label, self.total, self.count = label, total, start
        self.started = time.perf_counter()
        self.first = start
        self.tty = sys.stderr.isatty()
        self.last_decile = -1

    def advance(self, n: int = 1) -> None:
        self.count += n
        rate = (self.count - self.first) / max(time.perf_counter() - self.started, 1e-9)
        left = (self.total - self.count) / rate if rate else 0
        line = f"{self.label}: {self.count}/{self.total} ({rate:.2f}/s, ~{left:.0f} s left)"
        decile = self.count * 10 // max(self.total, 1)
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif decile != self.last_decile:
            print(line, file=sys.stderr, flush=True)
        self.last_decile = decile

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)
