"""The choosing stage: between generation and the database, find the answer that runs.

A small model often writes a wrong greedy answer while a right one is among its
likely ones. So: the greedy answer first, and when it parses, names only what
the schema has, passes the guard and returns rows, it is the answer (easy
questions cost nothing more). Otherwise K-1 sampled candidates join it, and each
candidate that failed gets a repaired twin with the schema's closest names
(`smolsql.sql.repair`); all are checked and run through the same door as every query
(`run_sql`: the guard, the read-only connection, a row cap and a time limit), and
the answer is the one that runs, then returns rows, then gives the result most
candidates agree on, then comes first. Only the answers the model wrote vote: a repaired
twin is a guess made from a failed answer, and several failed samples repaired alike
would otherwise outvote answers that ran as written (benchmarks/replay_choice.py measured
it on every scored validation run). With only a schema (no database) the checks alone
decide. Where linking cut the schema, candidates come from the linked and the whole schema
alike (`choose`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from smolsql.backends.base import Backend
from smolsql.db import Database, Limits, Result
from smolsql.errors import SmolsqlError
from smolsql.prompt import example_prompt, extract_sql
from smolsql.records import FAILED, Candidate, CandidateStatus, Example, Prediction
from smolsql.schema import Schema
from smolsql.sql.checks import find_problems
from smolsql.sql.repair import repair_names
from smolsql.sql.results import same_result
from smolsql.sql.run import run_sql
from smolsql.sql.text import pretty_sql

DEFAULT_CANDIDATES = 8
"""Measured on Spider validation (README): see benchmarks/candidates.py."""
MAX_CANDIDATES = 32

SAMPLE_LENGTH = 2.5
MIN_SAMPLE = 32
"""Samples stop at SAMPLE_LENGTH times the greedy answer's tokens, or MIN_SAMPLE tokens."""

RANK: dict[CandidateStatus, int] = {"rows": 0, "empty": 1, "valid": 2, "invalid": 3, "failed": 4,
                                    "skipped": 5}  # fmt: skip
"""Best first: what a candidate's status says about it as an answer."""

CANDIDATE_LIMITS = Limits(timeout_s=2.0)  # a slow candidate is interrupted

LIKELIHOOD_WEIGHT = 0.0
"""Off: weighing answers by the model's likelihood (4.0) chose better in Spider's wording and
no better in Spider-Syn's (docs/unseen-databases.md, step 10)."""


@dataclass(frozen=True)
class ChoiceSettings:
    """How many candidates, and the limits on running them."""

    candidates: int = DEFAULT_CANDIDATES
    """Answers considered, the greedy one included (1: the greedy answer alone)."""
    limits: Limits = CANDIDATE_LIMITS
    """Rows fetched (results compare on these) and time for running each candidate."""
    budget_s: float = 10.0
    """Time for checking and running all candidates of one question; the rest are skipped."""
    likelihood_weight: float = LIKELIHOOD_WEIGHT
    """Votes that one nat of the model's mean log-probability per token is worth, where
    answers that ran disagree (0: votes alone)."""

    def __post_init__(self) -> None:
        if not isinstance(self.candidates, int) or not 1 <= self.candidates <= MAX_CANDIDATES:
            raise SmolsqlError(
                f"candidates must be a whole number from 1 to {MAX_CANDIDATES}, "
                f"not {self.candidates!r}"
            )
        if self.budget_s <= 0:
            raise SmolsqlError("the time budget for candidates must be above 0 seconds")
        if self.likelihood_weight < 0:
            raise SmolsqlError("the likelihood weight must be 0 or more")


def choose(
    backend: Backend,
    greedy: Prediction,
    schema: Schema | None,
    db: Database | None = None,
    settings: ChoiceSettings | None = None,
) -> tuple[Prediction, Result | None]:
    """The chosen answer for `greedy`'s example, and its rows when it ran.

    `greedy` is the model's greedy prediction; candidates are sampled only when it
    fails the fast path. The returned prediction records every candidate tried.

    When linking cut the example's schema (`smolsql.link`), there is a database and the
    greedy answer fails the fast path, the other prompt's greedy answer joins the
    candidates and the samples are split between the two prompts: the whole schema's, so
    that a table linking missed can still win the vote, or, where the whole schema came
    first (`Example.whole_first`), the linked one's, which a table too many misled less.
    """
    settings = settings or ChoiceSettings()
    if settings.candidates == 1:
        return greedy, None  # plain greedy: nothing checked or run here
    start = time.perf_counter()
    deadline = start + settings.budget_s
    example = greedy.example
    first = _check(greedy.sql, greedy.raw, schema, db, settings, deadline)
    seen: dict[str, tuple[Candidate, Result | None]] = {greedy.sql: first}
    whole_first = bool(example.linked_schema) and example.whole_first  # wrote the greedy answer
    checked = [(replace(first[0], whole_schema=whole_first), first[1])]
    if _passes(first[0], db):
        return _chosen(greedy, [checked[0][0]], 0, start), first[1]
    sources = [(example_prompt(example), whole_first)]  # (prompt, shows the whole schema)
    if example.linked_schema and db is not None:  # rows to compare the two prompts' answers by
        sources.append((example_prompt(example, whole=not whole_first), not whole_first))
        prompt, whole_schema = sources[1]  # its greedy answer: a table linking missed, or
        raw = backend.generate([prompt])[0]  # one too many shown
        other = _check_once(_sql(raw, example.dialect), raw, seen, schema, db, settings, deadline)
        checked.append((replace(other[0], whole_schema=whole_schema), other[1]))
    if not backend.can_sample:  # a module:factory backend that only answers greedily
        return _chosen_by_vote(backend, greedy, checked, settings, start)
    limit = _sample_limit(backend, greedy.raw)
    left = settings.candidates - len(checked)
    written = []
    for i, (prompt, whole_schema) in enumerate(sources):
        n = left // len(sources) + (i < left % len(sources))
        raws = backend.sample([prompt], n, limit)[0] if n else []
        written += [(raw, whole_schema) for raw in raws]
    deadline = time.perf_counter() + settings.budget_s  # the budget is for checking, not sampling
    for raw, whole_schema in written:
        sql = _sql(raw, example.dialect)
        candidate, rows = _check_once(sql, raw, seen, schema, db, settings, deadline)
        checked.append((replace(candidate, whole_schema=whole_schema), rows))
    if schema is not None:
        checked += _repairs(checked, seen, schema, db, settings, deadline)
    return _chosen_by_vote(backend, greedy, checked, settings, start)


def _sql(raw: str, dialect: str) -> str:
    return pretty_sql(extract_sql(raw, dialect), dialect)


def _chosen_by_vote(
    backend: Backend,
    greedy: Prediction,
    checked: Sequence[tuple[Candidate, Result | None]],
    settings: ChoiceSettings,
    start: float,
) -> tuple[Prediction, Result | None]:
    """The best of the candidates checked, with their votes counted once, and its rows."""
    candidates = _count_votes(checked)
    if backend.can_score and settings.likelihood_weight > 0:
        candidates = _weigh(backend, greedy.example, candidates)
    index = _best(candidates, settings.likelihood_weight)
    return _chosen(greedy, candidates, index, start), checked[index][1]


def _chosen(
    greedy: Prediction, candidates: Sequence[Candidate], index: int, start: float
) -> Prediction:
    """`greedy` with the candidates tried and the chosen one's SQL, its time added."""
    chosen = candidates[index]
    elapsed_ms = (time.perf_counter() - start) * 1000
    return replace(
        greedy,
        sql=chosen.sql,
        raw=chosen.raw,
        candidates=tuple(candidates),
        chosen=index,
        latency_ms=greedy.latency_ms + elapsed_ms,
    )


def _repairs(
    checked: list[tuple[Candidate, Result | None]],
    seen: dict[str, tuple[Candidate, Result | None]],
    schema: Schema,
    db: Database | None,
    settings: ChoiceSettings,
    deadline: float,
) -> list[tuple[Candidate, Result | None]]:
    """One more candidate for each that failed on a name: the names the schema has put in."""
    out = []
    for index, (candidate, _) in enumerate(checked):
        if candidate.status not in FAILED:
            continue
        sql = repair_names(candidate.sql, schema)
        if sql is None:
            continue
        repaired, rows = _check_once(sql, candidate.raw, seen, schema, db, settings, deadline)
        out.append((replace(repaired, repair_of=index), rows))
    return out


def _check_once(
    sql: str,
    raw: str,
    seen: dict[str, tuple[Candidate, Result | None]],
    schema: Schema | None,
    db: Database | None,
    settings: ChoiceSettings,
    deadline: float,
) -> tuple[Candidate, Result | None]:
    """`_check`, but SQL already in `seen` is not run again: its outcome is reused."""
    if sql not in seen:
        seen[sql] = _check(sql, raw, schema, db, settings, deadline)
    candidate, rows = seen[sql]
    return replace(candidate, raw=raw), rows


def _sample_limit(backend: Backend, greedy_raw: str) -> int:
    """Tokens a sample may take: SAMPLE_LENGTH times the greedy answer's, at least MIN_SAMPLE.

    The batch of samples takes as many steps as its longest member, and a sample
    that rambles far past the greedy answer's length is rarely a right answer (on
    Spider validation the right samples were at most 2.1 times as long).
    """
    tokens = backend.count_tokens(greedy_raw)
    return max(MIN_SAMPLE, int(SAMPLE_LENGTH * tokens))


def _passes(candidate: Candidate, db: Database | None) -> bool:
    """The fast path: with a database, it returned rows; with a schema alone, its checks pass."""
    return candidate.status == ("rows" if db is not None else "valid") and not candidate.detail


def _check(
    sql: str,
    raw: str,
    schema: Schema | None,
    db: Database | None,
    settings: ChoiceSettings,
    deadline: float,
) -> tuple[Candidate, Result | None]:
    if not sql:
        return Candidate(sql, raw, "failed", "no SQL in the answer"), None
    problems = find_problems(sql, schema) if schema is not None else ()
    detail = "; ".join(problems)
    if db is None:
        return Candidate(sql, raw, "invalid" if problems else "valid", detail), None
    left = deadline - time.perf_counter()
    if left <= 0:
        return Candidate(sql, raw, "skipped", "the time budget for candidates ran out"), None
    try:
        limits = settings.limits
        result = run_sql(db, sql, replace(limits, timeout_s=min(limits.timeout_s, left)))
    except SmolsqlError as exc:
        return Candidate(sql, raw, "failed", str(exc)), None
    status = "rows" if result.rows else "empty"
    return Candidate(sql, raw, status, detail, rows=len(result.rows)), result


def _count_votes(checked: Sequence[tuple[Candidate, Result | None]]) -> list[Candidate]:
    """Each candidate that ran, with how many written candidates that ran got its answer
    and which candidate first got it."""
    out = []
    for candidate, result in checked:
        if result is None:
            out.append(candidate)
            continue
        same = [
            i
            for i, (_, other) in enumerate(checked)
            if other is not None and same_result(result.rows, other.rows)
        ]
        votes = sum(checked[i][0].repair_of is None for i in same)
        out.append(replace(candidate, votes=votes, same_as=same[0]))
    return out


def _weigh(backend: Backend, example: Example, candidates: list[Candidate]) -> list[Candidate]:
    """The contenders with how likely the model finds them, where they disagree.

    Contenders are the candidates that stand best before votes (`_standing`). Each is
    scored as the text its SQL was written as (a repair: its SQL on one line) after the
    prompt with the whole schema, one reference for answers from either prompt.
    """
    best = min(_standing(c) for c in candidates)
    contenders = [i for i, c in enumerate(candidates) if c.ran and _standing(c) == best]
    if len({candidates[i].same_as for i in contenders}) < 2:
        return candidates  # one answer: nothing for the model to weigh
    texts = {i: as_written(candidates[i]) for i in contenders}
    distinct = sorted(set(texts.values()))
    likelihoods = backend.score(example_prompt(example, whole=True), distinct)
    scores = dict(zip(distinct, likelihoods, strict=True))
    return [
        replace(c, likelihood=scores[texts[i]]) if i in texts else c
        for i, c in enumerate(candidates)
    ]


def as_written(candidate: Candidate) -> str:
    """The text the model is asked how likely it finds: what it wrote, or a repair's SQL."""
    return candidate.raw if candidate.repair_of is None else " ".join(candidate.sql.split())


def _standing(candidate: Candidate) -> tuple[int, bool]:
    """Runs, then returns rows, then no unknown names: what is known before votes."""
    return RANK.get(candidate.status, len(RANK)), bool(candidate.detail) and candidate.ran


def _best(candidates: Sequence[Candidate], weight: float = 0.0) -> int:
    """The best standing, then most votes plus `weight` times its likelihood, then earliest."""

    def key(i: int) -> tuple:
        c = candidates[i]
        return (*_standing(c), -(c.votes + weight * (c.likelihood or 0.0)), i)

    return min(range(len(candidates)), key=key)


def alternatives(prediction: Prediction) -> list[int]:
    """The candidates to show beside the answer when the model is unsure, answer first.

    Unsure: no answer has more than half the votes of the written candidates that ran,
    or the two with the most votes tie. Each distinct answer appears once (by its first
    candidate); when the model is sure, there are none.
    """
    tried = prediction.candidates
    firsts = sorted({c.same_as for c in tried if c.ran and c.same_as is not None})
    if len(firsts) < 2:
        return []
    voters = sum(c.ran and c.repair_of is None for c in tried)
    votes = sorted((tried[i].votes for i in firsts), reverse=True)
    if 2 * votes[0] > voters and votes[0] > votes[1]:
        return []
    chosen = tried[prediction.chosen].same_as
    rest = sorted((i for i in firsts if i != chosen), key=lambda i: (-tried[i].votes, i))
    return ([prediction.chosen] if chosen is not None else []) + rest


def describe(prediction: Prediction) -> str:
    """How the answer was chosen, in a few words (the app and the CLI show it)."""
    tried = prediction.candidates
    if len(tried) <= 1:
        return "greedy"
    ran = sum(c.ran for c in tried)
    repairs = sum(c.repair_of is not None for c in tried)
    which = "the greedy answer" if prediction.chosen == 0 else f"#{prediction.chosen + 1}"
    source = tried[prediction.chosen].repair_of
    if source is not None:
        which += f" (#{source + 1} with the schema's names)"
    written = len(tried) - repairs
    extra = f" + {repairs} repaired" if repairs else ""
    return f"tried {written}{extra}, {ran} ran, chose {which}"
