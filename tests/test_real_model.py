"""The real offline default model, end to end (CI runs this; ~1 minute the first time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.ask import ask
from smolsql.backends import GenerationOptions, load_backend
from smolsql.db import open_database
from smolsql.guard import check_sql


@pytest.mark.slow
def test_default_model_answers_on_the_fixture_database(sample_db: Path) -> None:
    backend = load_backend(None, options=GenerationOptions(max_new_tokens=48))
    with open_database(sample_db) as db:
        answer = ask(backend, "How many artists are there?", db.schema(), db)
    assert answer.prediction.raw.strip(), "the model said nothing"
    assert answer.sql, f"no SQL in {answer.prediction.raw!r}"
    check_sql(answer.sql)  # one read-only statement that parses
    assert "artist" in answer.sql.lower()
