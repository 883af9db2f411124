"""Solved examples: questions already answered on the same database, shown before the question.

A user who has checked a few answers on their own database holds the most telling
help a prompt can get: how this database's names are joined and spelled. The
prompt shows up to `MAX_SOLVED` of them as earlier turns of the same chat (the
question, then its SQL as the assistant's answer), after the schema's system
turn: each reads exactly like the training format, and the schema prefix stays
shared. The ones whose question is most like the new one are picked, most similar
first, by word overlap weighted by how rare each word is among the saved questions.
Only a model trained with them (`solved_examples` in training), as the default model is,
reads them well; one trained without copies from them and answers new questions worse
(the default model's card).

On a dataset (`with_solved`), each question's examples are the other questions on
its database, leaving out every one whose SQL is the same as its own after
normalization: Spider often asks one query twice in other words, and a copy of the
answer is not what a user's saved answers give.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from smolsql.errors import SmolsqlError, read_text
from smolsql.records import Example, Solved
from smolsql.sql.text import normalized_sql

MAX_SOLVED = 3
"""Solved examples in a prompt unless asked otherwise."""
MAX_PER_PROMPT = 10
"""The most a prompt may hold: each one lengthens the prompt by a question and its SQL."""
MAX_SOLVED_FILE = 10_000
"""Solved examples one file may hold: each question compares itself with all of them."""


def read_solved_file(path: str | Path) -> tuple[Solved, ...]:
    """Question/SQL pairs from a JSON list or JSON Lines file of {"question", "sql"} objects."""
    return solved_from_text(read_text(path, "solved examples file"), str(path))


def solved_from_text(text: str, source: str) -> tuple[Solved, ...]:
    """Question/SQL pairs from a JSON list or JSON Lines text; errors name `source`."""
    try:
        if text.lstrip().startswith("["):
            items = json.loads(text)
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise SmolsqlError(f"{source}: not JSON or JSON Lines ({exc})") from None
    try:
        return solved_from_items(items)
    except SmolsqlError as exc:
        raise SmolsqlError(f"{source}: {exc}") from None


def solved_from_items(items: object) -> tuple[Solved, ...]:
    """`Solved` records from parsed JSON (a file's or a request's), naming the first bad item."""
    if not isinstance(items, list):
        raise SmolsqlError("solved examples must be a list of {question, sql} objects")
    if len(items) > MAX_SOLVED_FILE:
        raise SmolsqlError(f"{len(items)} solved examples; at most {MAX_SOLVED_FILE}")
    out = []
    for i, item in enumerate(items, 1):
        question = item.get("question") if isinstance(item, dict) else None
        sql = item.get("sql") if isinstance(item, dict) else None
        if not (isinstance(question, str) and question.strip()):
            raise SmolsqlError(f"solved example {i} needs a non-empty 'question' string")
        if not (isinstance(sql, str) and sql.strip()):
            raise SmolsqlError(f"solved example {i} needs a non-empty 'sql' string")
        out.append(Solved(question.strip(), sql.strip()))
    return tuple(out)


FILLER = frozenset(
    {
        "a", "an", "the", "of", "is", "are", "was", "were", "be", "what", "which", "in",
        "on", "at", "to", "for", "and", "me", "do", "does", "did", "that", "this", "with",
        "by", "as", "all", "show", "list", "give", "find", "return", "tell",
    }
)  # fmt: skip
"""Words that say nothing about the query asked; 'how many', 'average', 'most' do, and stay."""


def _words(text: str) -> set[str]:
    """Lower-cased words but filler, plurals folded ('singers' and 'singer' are one word)."""
    words = re.findall(r"\w+", text.lower())
    return {
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words
        if w not in FILLER
    }


def similarities(question: str, pool: Sequence[Solved]) -> list[float]:
    """How alike `question` is to each solved example's question, from 0 to 1.

    Cosine similarity of word sets, each word weighted by its inverse frequency among
    the pool's questions, so that a database's everyday words count for little.
    """
    bags = [_words(s.question) for s in pool]
    counts = Counter(w for bag in bags for w in bag)
    unseen = math.log(len(pool) + 1) + 1

    def weight(word: str) -> float:
        return math.log((len(pool) + 1) / (counts[word] + 1)) + 1 if word in counts else unseen

    target = _words(question)
    norm = math.sqrt(sum(weight(w) ** 2 for w in target)) or 1.0

    def similarity(bag: set[str]) -> float:
        shared = sum(weight(w) ** 2 for w in target & bag)
        return shared / (norm * (math.sqrt(sum(weight(w) ** 2 for w in bag)) or 1.0))

    return [similarity(bag) for bag in bags]


def most_similar(question: str, pool: Sequence[Solved], k: int = MAX_SOLVED) -> tuple[Solved, ...]:
    """The `k` solved examples whose questions share the most (rare) words with `question`,
    most similar first; ties keep the pool's order."""
    if k <= 0 or not pool:
        return ()
    scores = similarities(question, pool)
    ranked = sorted(range(len(pool)), key=lambda i: -scores[i])
    return tuple(pool[i] for i in ranked[:k])


def with_solved(
    examples: Sequence[Example],
    k: int = MAX_SOLVED,
    pool: Sequence[Example] | None = None,
    vary_seed: int | None = None,
) -> list[Example]:
    """Each example with up to `k` solved examples from the other questions on its database.

    `pool` (default: `examples` themselves) is where they come from, grouped by database;
    an example never gets itself, nor any question whose SQL normalizes to its own.
    With `vary_seed`, each example gets a number drawn from 0..k instead of k, so that
    a model trained on them still answers with none.
    """
    if not 0 <= k <= MAX_PER_PROMPT:
        raise SmolsqlError(f"solved examples per prompt: 0 to {MAX_PER_PROMPT}, not {k}")
    pool = examples if pool is None else pool
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for member in pool:
        if member.sql:
            groups[_database(member)].append(member)
    rng = random.Random(vary_seed)
    cache: dict[str, str | None] = {}

    def key(example: Example) -> str | None:
        if example.sql not in cache:
            cache[example.sql] = normalized_sql(example.sql or "", example.dialect)
        return cache[example.sql]

    out = []
    for example in examples:
        n = rng.randint(0, k) if vary_seed is not None else k
        own = key(example) if example.sql else None
        others = [
            Solved(m.question, m.sql or "")
            for m in groups.get(_database(example), [])
            if m.question != example.question and (own is None or key(m) != own)
        ]
        out.append(replace(example, solved=most_similar(example.question, others, n)))
    return out


def _database(example: Example) -> tuple[str, str]:
    """What 'the same database' means for a dataset: the same file, else the same schema."""
    return (example.db_path or "", example.schema)
