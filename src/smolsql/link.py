"""Schema linking: the tables a question needs, picked before the SQL is written.

A 135M model confuses a schema's names even when it has four tables (`T1.name` on a
table without one, a join that skips the table a foreign-key chain needs); shown only
the tables the gold SQL reads, the default model answers far more validation questions
right (docs/schema-linking.md). So the prompt shows the tables the question is about
and those that join them, and leaves the rest out. The picking is lexical, as the
question is: a table scores by the words of its name the question uses, by its
columns' words (weighted by how rare each word is among the schema's tables: `name`
and `id` say little), and by the values the question names (`smolsql.hints`); the
scores are `smolsql.lexical`'s, which the schema budget ranks by too (`LinkSettings.learned`
weighs the same evidence by fitted weights instead: `smolsql.ranker`).

A missed table would be fatal, so linking never stands alone: when the greedy answer
from the linked prompt does not run and return rows, the choosing stage
(`smolsql.choose`) also writes candidates from the whole schema.

`LinkSettings` says when a schema is pruned and how much is kept (`--link-schema auto`
links long schemas only); `link_tables` picks;
`linked_schema` is the schema a prompt shows (serving's `build_example` and
`with_linked_schemas`, for datasets, both call it); `sql_tables` reads the tables a
query uses (the targets, when linking is measured).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace

from sqlglot import exp

from smolsql.db import Database, open_database
from smolsql.errors import SmolsqlError
from smolsql.hints import value_hints
from smolsql.lexical import PICK_SCORE, synonym_table, table_scores
from smolsql.ranker import default_ranker
from smolsql.records import Example
from smolsql.schema import Schema, Table, join_graph, joining, render_schema
from smolsql.sql.text import InvalidSQL, parse_sql


@dataclass(frozen=True)
class LinkSettings:
    """When a schema is pruned for a question, and how much of it stays."""

    min_tables: int = 2
    """Schemas with fewer tables than this are shown whole."""
    lead_tables: int = 2
    """Schemas with at least this many tables are asked with the linked schema first. Shorter
    ones (from `min_tables`) are asked with the whole schema, and the linked one only writes
    candidates when that greedy answer fails (`Example.whole_first`)."""
    neighbours: bool = False
    """Keep the tables one foreign key away from a picked table too (recall over precision)."""
    max_share: float = 0.8
    """When the pick keeps more than this share of the tables, the whole schema is shown."""
    learned: bool = False
    """Pick by the learned ranker's chances (`smolsql.ranker`) instead of the hand-set
    weights: fewer tables at the same recall on the held-out databases, but no better
    default answer there (docs/schema-linking.md), so off."""
    synonyms: bool = False
    """Also meet a schema's words through the words people say for them (`client` for
    customer; `lexical.synonym_table`). More recall, no better answers: off
    (docs/schema-linking.md)."""

    def __post_init__(self) -> None:
        if self.min_tables < 2:
            raise SmolsqlError("schema linking needs min_tables of at least 2")
        if not 0 < self.max_share <= 1:
            raise SmolsqlError("max_share is a share of the tables: above 0, at most 1")

    def applies_to(self, schema: Schema) -> bool:
        """Whether `schema` is long enough to be linked (else nothing need be looked up)."""
        return len(schema.tables) >= self.min_tables

    def leads(self, schema: Schema) -> bool:
        """Whether a prompt on `schema` shows the linked schema first (else the whole one)."""
        return len(schema.tables) >= self.lead_tables


LINKING = ("auto", "on", "off")
"""`--link-schema`'s values, the same for ask, serve, app and predict."""
DEFAULT_LINKING = "auto"
"""Long schemas linked, short ones whole: measured in docs/schema-linking.md."""
AUTO_MIN_TABLES = 5
"""`auto` links schemas of at least this many tables. On validation's schemas of 2-4 tables
linking moved no answer a sign test can see and cost a third more time a question; on
the held-out ones of 11-18 tables it was right far more often
(benchmarks/linking_threshold.py, docs/schema-linking.md)."""


def link_settings(choice: str) -> LinkSettings | None:
    """The settings `--link-schema auto|on|off` stands for (None: the whole schema, always)."""
    if choice not in LINKING:
        raise SmolsqlError(f"schema linking is {', '.join(LINKING)}, not {choice!r}")
    if choice == "off":
        return None
    return LinkSettings(min_tables=AUTO_MIN_TABLES) if choice == "auto" else LinkSettings()


@dataclass(frozen=True)
class Link:
    """The tables kept for one question, best first, and whether anything was left out."""

    tables: tuple[str, ...]
    pruned: bool


def link_tables(
    schema: Schema,
    question: str,
    hints: Sequence[str] = (),
    settings: LinkSettings | None = None,
) -> Link:
    """The tables to show for `question`: picked ones, those joining them, their neighbours."""
    settings = settings or LinkSettings()
    everything = Link(tuple(t.name for t in schema.tables), pruned=False)
    if not settings.applies_to(schema):
        return everything
    if settings.learned:
        ranker = default_ranker()
        scores = ranker.chances(schema, question, hints)
        least = ranker.keep_share * max(scores.values(), default=0.0)
    else:
        synonyms = synonym_table() if settings.synonyms else None
        scores, least = table_scores(schema, question, hints, synonyms), PICK_SCORE
    picked = [name for name, score in scores.items() if score >= least]
    if not picked:
        return everything
    graph = join_graph(schema)
    kept = set(picked) | joining(graph, picked)  # with the chains that join them
    if settings.neighbours:
        kept.update(n for name in picked for n in graph.get(name, ()))
    if len(kept) > settings.max_share * len(schema.tables):
        return everything
    order = sorted(kept, key=lambda name: -scores[name])
    return Link(tuple(order), pruned=True)


def pruned_schema(schema: Schema, tables: Iterable[str]) -> Schema:
    """`schema` with only `tables` (in the schema's order), keys to dropped tables left out."""
    keep = {name.lower() for name in tables}
    return replace(
        schema,
        tables=tuple(_without_keys_to(t, keep) for t in schema.tables if t.name.lower() in keep),
    )


def _without_keys_to(table: Table, keep: set[str]) -> Table:
    kept = tuple(fk for fk in table.foreign_keys if fk.ref_table.lower() in keep)
    return table if len(kept) == len(table.foreign_keys) else replace(table, foreign_keys=kept)


def linked_schema(
    schema: Schema,
    question: str,
    hints: Sequence[str] = (),
    settings: LinkSettings | None = None,
    keep: Iterable[str] = (),
) -> tuple[Schema, tuple[str, ...]]:
    """The schema a prompt shows for `question`, and the tables linking left out.

    `keep` names tables shown whenever the schema is cut (training keeps the gold SQL's,
    so that every linked training prompt can be answered).
    """
    link = link_tables(schema, question, hints, settings)
    if not link.pruned:
        return schema, ()
    kept = {name.lower() for name in (*link.tables, *keep)}
    dropped = tuple(t.name for t in schema.tables if t.name.lower() not in kept)
    if not dropped:
        return schema, ()
    return pruned_schema(schema, kept), dropped


def with_linked_schemas(
    examples: Sequence[Example],
    settings: LinkSettings | None = None,
    samples: int = 0,
    keep_gold: bool = False,
) -> list[Example]:
    """Each example whose database is at hand with its `linked_schema` for its question.

    The schema is read from the database again (each once); the values the question
    names are looked up there for the linking (not put in the prompt unless the example
    has them). Examples without a database that opens are left as they are. `keep_gold`
    (for training) also shows the tables the example's gold SQL reads: the linker's
    extra picks stay in, as they would at serving time, and its misses are mended.
    """
    settings = settings or LinkSettings()
    out = []
    with ExitStack() as stack:
        opened: dict[str, tuple[Database, Schema, str] | None] = {}
        for example in examples:
            where = example.db_path
            if where and where not in opened:
                try:
                    db = stack.enter_context(open_database(where))
                    schema = db.schema(samples)
                    opened[where] = (db, schema, render_schema(schema).text)
                except SmolsqlError:
                    opened[where] = None  # no database to read: the text stays
            found = opened.get(where) if where else None
            if found is None:
                out.append(example)
                continue
            db, schema, whole = found
            if not settings.applies_to(schema):
                out.append(replace(example, schema=whole, linked_schema=""))  # too short
                continue
            values = example.hints or value_hints(db, schema, example.question)
            gold = sql_tables(example.sql, schema) if keep_gold and example.sql else ()
            shown, cut = linked_schema(schema, example.question, values, settings, gold)
            linked = render_schema(shown).text if cut else ""
            whole_first = bool(linked) and not settings.leads(schema)
            out.append(
                replace(example, schema=whole, linked_schema=linked, whole_first=whole_first)
            )
    return out


def sql_tables(sql: str, schema: Schema) -> frozenset[str]:
    """The schema's tables that `sql` reads (by the schema's spelling); none when it won't parse."""
    spelled = {t.name.lower(): t.name for t in schema.tables}
    try:
        statements = parse_sql(sql, schema.dialect)
    except InvalidSQL:
        return frozenset()
    return frozenset(
        spelled[t.name.lower()]
        for statement in statements
        for t in statement.find_all(exp.Table)
        if t.name.lower() in spelled
    )
