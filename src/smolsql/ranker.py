"""A learned table ranker: the linker's lexical evidence, weighed by fitted weights.

`smolsql.link` picks tables by hand-set weights (`smolsql.lexical`). This weighs the same
evidence, and a little more (how rare the rarest column word the question touches is,
whether a table bridges two picked ones, the schema's size), by a logistic regression
fitted to the tables Spider's gold SQL reads (`benchmarks/learned_linker.py` writes
`ranker.json`, held-out databases left out). On the held-out databases it keeps fewer
tables at the same recall, and its greedy answers lean its way, but the default answer
(candidates from the whole schema among them) is no better (docs/schema-linking.md), so
`LinkSettings.learned` is off.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.lexical import (
    GENERIC,
    PICK_SCORE,
    column_rarity,
    columns_named,
    hinted_tables,
    name_share,
    question_words,
    table_scores,
    words,
)
from smolsql.schema import Schema, join_graph, joining

EVIDENCE = (
    "bias", "name share", "any name word", "rare columns named", "columns touched",
    "rarest column touched", "value named", "score / best", "best", "1 / rank",
    "bridges picks", "foreign keys / tables", "log tables", "picked by hand", "none picked",
    "columns / 10",
)  # fmt: skip
"""What `evidence` gives for each table, in order; `ranker.json` weighs them by name."""

RANKER_FILE = Path(__file__).with_name("ranker.json")


def evidence(schema: Schema, question: str, hints: Sequence[str] = ()) -> dict[str, list[float]]:
    """Each table's evidence (EVIDENCE's order) that `question` needs it, by table name."""
    asked = question_words(question)
    scores = table_scores(schema, question, hints)
    n = len(schema.tables)
    graph = join_graph(schema)
    best = max(scores.values(), default=0.0)
    rank = {name: i for i, name in enumerate(sorted(scores, key=lambda t: -scores[t]))}
    picked = [name for name, score in scores.items() if score >= PICK_SCORE]
    bridges = joining(graph, picked)
    rarity = column_rarity(schema)
    hinted = hinted_tables(hints)
    out = {}
    for table in schema.tables:
        met = [
            [rarity(w) for w in words(c.name) if w not in GENERIC and w in asked]
            for c in table.columns
        ]
        touched = sum(bool(m) for m in met)
        rarest = max((max(m) for m in met if m), default=0.0)
        score, place = scores[table.name], rank[table.name]
        out[table.name] = [
            1.0, name_share(table.name, asked), float(any(w in asked for w in words(table.name))),
            min(sum(columns_named(table, asked, rarity)), 3.0), min(touched, 5.0) / 5, rarest,
            float(table.name.lower() in hinted), score / best if best > 0 else 0.0,
            float(place == 0), 1 / (1 + place), float(table.name in bridges and score < PICK_SCORE),
            len(graph[table.name]) / n, math.log(n), float(score >= PICK_SCORE),
            float(best < PICK_SCORE), len(table.columns) / 10,
        ]  # fmt: skip
    return out


@dataclass(frozen=True)
class Ranker:
    """Fitted weights (by EVIDENCE's names) and the share of the best chance a table needs."""

    weights: dict[str, float]
    keep_share: float

    def chances(self, schema: Schema, question: str, hints: Sequence[str] = ()) -> dict[str, float]:
        """The chance that `question`'s SQL reads each table."""
        w = [self.weights[name] for name in EVIDENCE]
        out = {}
        for table, row in evidence(schema, question, hints).items():
            z = sum(a * b for a, b in zip(w, row, strict=True))
            out[table] = 1 / (1 + math.exp(-z))
        return out

    def save(self, path: Path, about: str) -> None:
        data = {"about": about, "keep_share": self.keep_share, "weights": self.weights}
        path.write_text(json.dumps(data, indent=1) + "\n")


@functools.cache
def default_ranker() -> Ranker:
    """`RANKER_FILE`, the ranker fitted by benchmarks/learned_linker.py."""
    data = json.loads(RANKER_FILE.read_text())
    missing = set(EVIDENCE) - set(data["weights"])
    if missing:
        raise SmolsqlError(f"{RANKER_FILE} has no weight for {', '.join(sorted(missing))}")
    return Ranker(data["weights"], data["keep_share"])
