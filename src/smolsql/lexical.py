"""How a question's words meet a schema's names: the one lexical match.

Schema linking (`smolsql.link`) picks the tables a question scores highest on, and the
schema budget (`smolsql.schema.render_schema`) keeps them first when a schema is too long
for the prompt. Names are split as people write them (`CarNames`, `car_names`: car, name)
and plurals folded, so that a question's `countries` meets a table's `country`. (Question
against question, as `smolsql.solved` finds the nearest solved examples, is its own
measure, left as the learning curve measured it: these words would change its picks.)
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smolsql.schema import Schema, Table

TABLE_WEIGHT = 2.0
"""A table's own name in the question counts as much as two rare column names."""
VALUE_WEIGHT = 2.0
"""A value the question names (`smolsql.hints`) points at its table as surely."""
PICK_SCORE = 1.0
"""A table is picked at this score: its name, a value in it, or a rare column's name."""

_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
GENERIC = frozenset({"id", "name", "code", "type", "details", "description", "other", "ref"})
"""Column and table words so common that a question using them says nothing of the table."""


def words(text: str) -> tuple[str, ...]:
    """Lower-case word stems of a name or a question: `CarNames`, `car_names` -> car, name."""
    out = []
    for word in _SPLIT.split(_CAMEL.sub(" ", text).lower()):
        if len(word) > 1:
            out.append(_stem(word))
    return tuple(out)


def _stem(word: str) -> str:
    """English plurals to singular, roughly: enough for names against questions."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


SYNONYMS_FILE = Path(__file__).with_name("synonyms.json")
"""Words people say for a schema's words, learned from Spider-Syn (benchmarks/synonyms.py)."""


@functools.cache
def synonym_table() -> Mapping[str, tuple[str, ...]]:
    """`SYNONYMS_FILE` as a word (or two-word phrase) -> the schema words it stands for."""
    table: dict[str, tuple[str, ...]] = {}
    for said, word, _ in json.loads(SYNONYMS_FILE.read_text())["pairs"]:
        table[said] = (*table.get(said, ()), word)
    return table


def question_words(question: str, synonyms: Mapping[str, Sequence[str]] | None = None) -> set[str]:
    """The question's words, and the schema words its words and word pairs stand for in
    `synonyms` (`client` also means customer), so that a name the question does not use
    can still be met."""
    said = words(question)
    asked = set(said)
    if synonyms:
        for i, word in enumerate(said):
            asked.update(synonyms.get(word, ()))
            asked.update(synonyms.get(" ".join(said[i : i + 2]), ()))
    return asked


def column_rarity(schema: Schema) -> Callable[[str], float]:
    """How rare a column word is across the schema's tables: 1 for a word one table's
    columns have, near 0 for one they all have (a rare word points at its table)."""
    spread: dict[str, int] = {}
    for table in schema.tables:
        for word in {w for c in table.columns for w in words(c.name)}:
            spread[word] = spread.get(word, 0) + 1
    n = len(schema.tables)
    return lambda word: math.log((n + 1) / spread.get(word, 1)) / math.log(n + 1)


def name_share(name: str, asked: set[str]) -> float:
    """The share of a table name's own words (generic ones aside) that the question uses."""
    own = [w for w in words(name) if w not in GENERIC] or list(words(name))
    return sum(w in asked for w in own) / max(1, len(own))


def columns_named(table: Table, asked: set[str], rarity: Callable[[str], float]) -> list[float]:
    """For each column whose every word the question uses, its commonest word's rarity."""
    out = []
    for column in table.columns:
        named = [w for w in words(column.name) if w not in GENERIC]
        if named and all(w in asked for w in named):
            out.append(min(rarity(w) for w in named))
    return out


def hinted_tables(hints: Sequence[str]) -> set[str]:
    """The tables (lower-case) that hold a value the question names: `table.column = value`."""
    return {h.split(".", 1)[0].lower() for h in hints}


def table_scores(
    schema: Schema,
    question: str,
    hints: Sequence[str] = (),
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """How strongly the question points at each table (by name as the schema spells it)."""
    asked = question_words(question, synonyms)
    rarity = column_rarity(schema)
    hinted = hinted_tables(hints)
    scores = {}
    for table in schema.tables:
        # summed in this order, as when ranker.json was fitted: another order moves float
        # ties between tables, and with them the ranks the ranker reads
        score = sum(
            (TABLE_WEIGHT * name_share(table.name, asked), *columns_named(table, asked, rarity))
        )
        if table.name.lower() in hinted:
            score += VALUE_WEIGHT
        scores[table.name] = score
    return scores
