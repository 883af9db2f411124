"""Value hints: database values that the question names, shown to the model beside their column.

"How many flights leave Aberdeen?" names a value, not a column: the model has to
know that 'Aberdeen' is in airports.City. CodeS and RESDSQL feed such matches
from the database's content into the prompt; this is the simple form of that:
the question's words (and their singulars) and phrases of up to three words,
matched against the text columns ignoring case and surrounding spaces, one query
per column, read-only. The hints
go in the user turn, after the question, so the schema prefix stays shared.
"""

from __future__ import annotations

import re

from sqlglot import exp

from smolsql.db.base import Database, Limits, sample_literal
from smolsql.errors import SmolsqlError
from smolsql.schema import Schema

MAX_HINTS = 6
MAX_PHRASE_WORDS = 3
HINT_LIMITS = Limits(max_rows=3, timeout_s=2.0)  # per column looked up
TEXT_TYPES = ("CHAR", "TEXT", "CLOB", "STRING")
"""Column types whose values are matched, and untyped columns (SQLite allows them)."""
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "list",
        "many",
        "me",
        "much",
        "of",
        "on",
        "or",
        "show",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "with",
        "give",
        "find",
        "return",
        "all",
        "each",
        "every",
        "any",
        "number",
        "name",
        "names",
        "count",
        "total",
        "average",
    ]
)


def question_phrases(question: str) -> list[str]:
    """Lower-cased words and phrases of up to three words, quoted strings first, no stopwords."""
    quoted = [q.strip().lower() for q in re.findall(r"[\"'“‘]([^\"'”’]{2,60})[\"'”’]", question)]
    words = re.findall(r"[\w&.-]+", question.lower())
    phrases = []
    for size in range(MAX_PHRASE_WORDS, 0, -1):
        for i in range(len(words) - size + 1):
            span = words[i : i + size]
            if span[0] in STOPWORDS or span[-1] in STOPWORDS:
                continue
            phrase = " ".join(span).strip(".-")
            if len(phrase) > 1 and not phrase.replace(".", "").isdigit():
                phrases.append(phrase)
                if size == 1 and phrase.endswith("s") and not phrase.endswith("ss"):
                    phrases.append(phrase[:-1])  # "cats" names the value 'cat'
    return list(dict.fromkeys(quoted + phrases))


def value_hints(
    db: Database, schema: Schema, question: str, limit: int = MAX_HINTS
) -> tuple[str, ...]:
    """`table.column = 'Value'` for text values the question names, at most `limit`."""
    phrases = question_phrases(question)
    if not phrases:
        return ()
    hints: list[str] = []
    for table in schema.tables:
        for column in table.columns:
            kind = column.type.upper()
            if kind and not any(t in kind for t in TEXT_TYPES):
                continue
            for value in _matches(db, table.name, column.name, phrases):
                hints.append(f"{table.name}.{column.name} = {sample_literal(value)}")
                if len(hints) >= limit:
                    return tuple(hints)
    return tuple(hints)


def _matches(db: Database, table: str, column: str, phrases: list[str]) -> list[object]:
    """Distinct values of one column equal (ignoring case) to one of the phrases."""
    target = exp.column(column, quoted=True)
    query = (
        exp.select(target)
        .distinct()
        .from_(exp.table_(table, quoted=True))
        .where(
            exp.func("LOWER", exp.func("TRIM", target)).isin(
                *(exp.Literal.string(p) for p in phrases)
            )
        )
        .limit(3)
    )
    try:
        return [row[0] for row in db.execute(query.sql(dialect=db.dialect), HINT_LIMITS).rows]
    except SmolsqlError:
        return []  # a column that cannot be compared this way: no hint from it
