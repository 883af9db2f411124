"""Value hints as a table: (question, the hints found in the real sample database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ScriptedBackend

from smolsql.ask import ask
from smolsql.choose import ChoiceSettings
from smolsql.db import open_database
from smolsql.hints import question_phrases, value_hints
from smolsql.prompt import build_prompt, shared_prefix

CASES = [
    ("Which customers live in Lisbon?", ("customer.city = 'Lisbon'",)),
    ("How many albums are in the jazz genre?", ("album.genre = 'Jazz'",)),  # any case
    ("Albums by Kofi Mensah Trio", ("artist.name = 'Kofi Mensah Trio'",)),  # a phrase
    ("Is 'Paper Boats' a Folk album?", ("album.title = 'Paper Boats'", "album.genre = 'Folk'")),
    ("Artists from Spain or Ireland", ("artist.country = 'Ireland'", "artist.country = 'Spain'")),
    ("How many artists are there?", ()),  # no value named
    ("Albums released in 2011", ()),  # numbers are not matched (only text columns)
    ("Which name is the longest?", ()),  # stopwords alone never match
]


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_value_hints(question: str, expected: tuple[str, ...], sample_db: Path) -> None:
    with open_database(sample_db) as db:
        assert value_hints(db, db.schema(), question) == expected


def test_phrases_skip_stopwords_and_keep_quotes() -> None:
    phrases = question_phrases('Which albums are named "Second Line" by the band?')
    assert phrases[0] == "second line" and "the" not in phrases and "albums" in phrases
    assert "the band" not in phrases and "band" in phrases


def test_hints_follow_the_question_and_leave_the_prefix_alone() -> None:
    plain = build_prompt("Who lives in Lisbon?", "CREATE TABLE customer (city TEXT);")
    hinted = build_prompt(
        "Who lives in Lisbon?",
        "CREATE TABLE customer (city TEXT);",
        hints=("customer.city = 'Lisbon'",),
    )
    assert shared_prefix(plain) == shared_prefix(hinted)
    assert "Lisbon?\nValues: customer.city = 'Lisbon'<|im_end|>" in hinted


def test_ask_puts_hints_in_the_prompt_when_asked(sample_db: Path) -> None:
    backend = ScriptedBackend()
    with open_database(sample_db) as db:
        for hints in (False, True):
            ask(
                backend,
                "Who is in Lisbon?",
                db.schema(),
                db,
                choice=ChoiceSettings(1),
                value_hints=hints,
            )
    assert "Values:" not in backend.prompts[0]
    assert "Values: customer.city = 'Lisbon'" in backend.prompts[1]
