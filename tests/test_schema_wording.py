"""benchmarks/schema_wording.py: the synonym table it learns and the rewording it does."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def wording() -> ModuleType:
    """The script, imported as it runs: beside the benchmarks it imports from."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).parents[1] / "benchmarks"))
        return importlib.import_module("schema_wording")


TABLE = {"client": [(1.0, "customer")], "town": [(0.9, "city"), (0.95, "location")]}
# (question, the schema's words, reworded)
CASES = [
    ("How many clients live in each town?", {"customer", "city"},
     "How many customers live in each city?"),
    ("Clients first.", {"customer"}, "Customers first."),
    ("the town", {"city", "location"}, "the location"),  # the pair meant more often
    ("the client", {"client", "customer"}, "the client"),  # the schema has the word said
    ("the client", {"buyer"}, "the client"),  # nor the word it stands for: as asked
]  # fmt: skip


@pytest.mark.parametrize(("question", "schema", "reworded"), CASES)
def test_words_the_schema_lacks_are_put_as_its_own(wording, question, schema, reworded):
    assert wording.in_schema_words(question, schema, TABLE) == reworded


def test_a_pair_is_kept_only_where_it_was_meant(wording) -> None:
    """`client` always meant customer; `number` was put for code twice, but said for a
    number three more times where the schema had a code: 2 of 5, left out."""
    spider, syn = [], []
    for _ in range(3):
        spider.append({"db_id": "shop", "question": "List every customer"})
        syn.append({"db_id": "shop", "question": "List every client"})
    for _ in range(2):
        spider.append({"db_id": "shop", "question": "Show the code"})
        syn.append({"db_id": "shop", "question": "Show the number"})
    for _ in range(3):
        spider.append({"db_id": "shop", "question": "Count the number of items"})
        syn.append({"db_id": "shop", "question": "Count the number of items"})
    schemas = {"shop": {"customer", "code", "item"}}
    table = wording.wording_table(spider, syn, schemas, set(), min_count=2, min_precision=0.8)
    assert table == {"client": [(1.0, "customer")]}
    loose = wording.wording_table(spider, syn, schemas, set(), min_count=2, min_precision=0.3)
    assert loose["number"] == [(0.4, "code")]
    assert wording.wording_table(spider, syn, schemas, {"shop"}, 2, 0.3) == {}  # held out: nothing
