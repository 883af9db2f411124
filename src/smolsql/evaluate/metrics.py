"""Scoring predictions: syntax validity, execution accuracy, exact match; and their summary."""

from __future__ import annotations

import functools
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from smolsql.evaluate.execution import is_ordered, run_query
from smolsql.link import sql_tables
from smolsql.records import MISSED, NOT_SCORED, Execution, Prediction, Score
from smolsql.schema import Schema, parse_ddl
from smolsql.sql.results import same_result
from smolsql.sql.text import normalized_sql, parses

__all__ = ["Score", "exact_match", "score", "summarize", "tables_kind", "wrong_tables"]


def exact_match(gold: str, pred: str, dialect: str = "sqlite") -> bool:
    a, b = normalized_sql(gold, dialect), normalized_sql(pred, dialect)
    return a is not None and a == b


def score(
    prediction: Prediction,
    timeout_s: float = 10.0,
    allow_writes: bool = False,
    strict_columns: bool = False,
) -> Score:
    """Score one prediction against its example's gold SQL (syntax, execution, exact match).

    `allow_writes` runs DML on throwaway copies of database files (never the files).
    Predicted columns in another order count as a match (as Spider's test-suite
    evaluation has it) unless `strict_columns`. Each candidate the prediction
    tried is scored too (`candidate_execution`), so one run gives greedy, chosen
    and oracle accuracy.
    """
    example = prediction.example
    sql = prediction.sql
    valid = parses(sql, example.dialect)
    if not example.sql:
        return Score(prediction, valid, False, "no_gold")
    em = bool(sql) and exact_match(example.sql, sql, example.dialect)
    if not example.db_path and not example.setup_sql:
        return Score(prediction, valid, em, "no_db")
    gold = run_query(example, example.sql, timeout_s, gold=True, allow_writes=allow_writes)
    if gold.error is not None:
        return Score(prediction, valid, em, "gold_error", detail=gold.error)
    ordered = not gold.changed_state and is_ordered(example.sql, example.dialect)
    verdicts: dict[str, tuple[Execution, str]] = {}

    def execution(candidate_sql: str) -> tuple[Execution, str]:
        """(outcome, error detail) of one SQL; each distinct SQL runs once."""
        if candidate_sql not in verdicts:
            if not candidate_sql:
                verdicts[candidate_sql] = ("no_sql", "")
            else:
                pred = run_query(example, candidate_sql, timeout_s, allow_writes=allow_writes)
                if pred.error is not None:
                    verdicts[candidate_sql] = ("pred_error", pred.error)
                else:
                    same = same_result(gold.rows or (), pred.rows or (), ordered, strict_columns)
                    verdicts[candidate_sql] = ("correct" if same else "wrong", "")
        return verdicts[candidate_sql]

    outcome, detail = execution(sql)
    tried = tuple(execution(c.sql)[0] for c in prediction.candidates)
    empty = outcome == "correct" and not gold.rows
    return Score(prediction, valid, em, outcome, empty, detail, candidate_execution=tried)


TABLE_KINDS = ("the gold tables", "too few: a join skipped", "extra tables", "other tables",
               "no table")  # fmt: skip
"""How the tables an answer reads stand to those its gold SQL reads (`tables_kind`)."""
LINKED_MISSED = "linked prompt lacked a gold table"


def tables_kind(answer: frozenset[str], gold: frozenset[str]) -> str:
    """Which of TABLE_KINDS the tables `answer` reads are, against the gold SQL's `gold`."""
    answer, gold = frozenset(a.lower() for a in answer), frozenset(g.lower() for g in gold)
    if not answer:
        return TABLE_KINDS[4]  # it does not parse, or names no table of the schema
    if answer == gold:
        return TABLE_KINDS[0]
    if answer < gold:
        return TABLE_KINDS[1]
    return TABLE_KINDS[2] if answer > gold else TABLE_KINDS[3]


@functools.lru_cache(maxsize=64)
def _schema(text: str, dialect: str) -> Schema:
    return parse_ddl(text, dialect)


def wrong_tables(scores: Sequence[Score]) -> dict[str, int]:
    """For the wrong answers: how many read each of TABLE_KINDS, and how many were shown a
    linked schema that lacked a table the gold SQL reads (LINKED_MISSED).

    On long schemas most wrong answers skip a join (docs/unseen-databases.md): this says
    whether a run's failures are tables or logic, no model needed.
    """
    out = dict.fromkeys(TABLE_KINDS, 0)
    missed = 0
    for s in scores:
        example = s.prediction.example
        if s.execution not in MISSED or not example.sql or not example.schema:
            continue
        whole = _schema(example.schema, example.dialect)
        gold = sql_tables(example.sql, whole)
        out[tables_kind(sql_tables(s.prediction.sql, whole), gold)] += 1
        if example.linked_schema and not example.whole_first:
            shown = {t.name.lower() for t in _schema(example.linked_schema, example.dialect).tables}
            missed += not {g.lower() for g in gold} <= shown
    return {**{k: n for k, n in out.items() if n}, **({LINKED_MISSED: missed} if missed else {})}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _accuracy(scores: Sequence[Score]) -> dict[str, Any]:
    counted = [s for s in scores if s.execution not in NOT_SCORED]
    correct = sum(s.execution == "correct" for s in counted)
    return {
        "n": len(scores),
        "execution_accuracy": _rate(correct, len(counted)),
        "syntax_valid": _rate(sum(s.syntax_valid for s in scores), len(scores)),
        "exact_match": _rate(sum(s.exact_match for s in scores), len(scores)),
    }


def _candidate_summary(scores: Sequence[Score]) -> dict[str, Any]:
    """Greedy (the first candidate), oracle (any candidate right) and how answers were chosen."""
    tried = [s for s in scores if s.candidate_execution]
    if not tried:
        return {}
    counted = [s for s in scores if s.execution not in NOT_SCORED]

    def greedy(s: Score) -> str:
        return s.candidate_execution[0] if s.candidate_execution else s.execution

    def oracle(s: Score) -> bool:
        return "correct" in (s.candidate_execution or (s.execution,))

    sampled = [s for s in tried if len(s.candidate_execution) > 1]
    return {
        "greedy_execution_accuracy": _rate(
            sum(greedy(s) == "correct" for s in counted), len(counted)
        ),
        "oracle_execution_accuracy": _rate(sum(oracle(s) for s in counted), len(counted)),
        "candidates_sampled": len(sampled),
        "chosen_not_greedy": sum(s.prediction.chosen != 0 for s in tried),
        "candidates_per_question_max": max(len(s.candidate_execution) for s in tried),
    }


def _group_summary(scores: Sequence[Score]) -> dict[str, Any]:
    """A breakdown's row: the accuracies, and greedy and oracle where candidates ran."""
    rates = ("greedy_execution_accuracy", "oracle_execution_accuracy")
    candidates = _candidate_summary(scores)
    return {**_accuracy(scores), **{k: candidates[k] for k in rates if k in candidates}}


def summarize(
    scores: Sequence[Score], by: Sequence[str] = ("db_id", "domain", "sql_complexity")
) -> dict:
    """The metrics of a run, with breakdowns by the meta keys the data has.

    Execution accuracy leaves out examples whose gold SQL fails on its own
    (counted as `gold_failed`); `correct_empty_result` counts correct answers whose
    result is empty, where any query returning nothing would have matched.
    """
    summary = _accuracy(scores)
    outcomes = Counter(s.execution for s in scores)
    summary["gold_failed"] = outcomes.get("gold_error", 0)
    summary["correct_empty_result"] = sum(s.empty_result for s in scores)
    summary["outcomes"] = dict(sorted(outcomes.items()))
    summary.update(_candidate_summary(scores))
    if tables := wrong_tables(scores):
        summary["wrong_tables"] = tables
    verdicts = [s.judge for s in scores if s.judge is not None]
    if verdicts:
        usable = [v for v in verdicts if not v.failed]
        summary["judge_accuracy"] = _rate(sum(v.correct for v in usable), len(usable))
        summary["judge_failed"] = len(verdicts) - len(usable)
        summary["judge_error_types"] = dict(
            sorted(Counter(v.error_type for v in usable if not v.correct).items())
        )
    latencies = [s.prediction.latency_ms for s in scores]
    if latencies:
        # Both: with candidates sampled for about half the questions, the median sits on the
        # edge between the greedy-only and the sampled ones, and a few questions move it far.
        summary["latency_ms_median"] = round(statistics.median(latencies), 1)
        summary["latency_ms_mean"] = round(statistics.fmean(latencies), 1)
    for key in by:
        groups: dict[str, list[Score]] = defaultdict(list)
        for s in scores:
            if key in s.prediction.example.meta:
                groups[str(s.prediction.example.meta[key])].append(s)
        if groups:
            summary[f"by_{key}"] = {k: _group_summary(v) for k, v in sorted(groups.items())}
    return summary
