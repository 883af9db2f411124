"""The choosing stage with scripted candidates, on the real SQLite sample database."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from fakes import ScriptedBackend

from smolsql.ask import ask
from smolsql.choose import (
    CANDIDATE_LIMITS,
    LIKELIHOOD_WEIGHT,
    ChoiceSettings,
    alternatives,
    describe,
)
from smolsql.db import Limits, open_database
from smolsql.errors import SmolsqlError
from smolsql.records import Candidate
from smolsql.schema import approx_tokens, parse_ddl
from smolsql.sql.run import run_sql

SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) "
    "SELECT count(*) FROM n"
)
UNKNOWN = "SELECT zzzz FROM artist"  # no column is close enough to repair it

# (what it shows, greedy answer then candidates, index chosen, statuses)
CASES = [
    ("greedy runs and returns rows: taken, nothing sampled",
     ["SELECT name FROM artist", "SELECT 1"], 0, ["rows"]),
    ("unknown column, a DELETE, no rows, two that agree: the agreeing pair's first",
     [UNKNOWN, "DELETE FROM artist", "SELECT name FROM artist WHERE 0",
      "SELECT count(*) FROM album", "SELECT name FROM artist", "SELECT count(*) FROM album"],
     3, ["failed", "failed", "empty", "rows", "rows", "rows"]),
    ("rows beat no rows, even when the empty answers agree",
     [UNKNOWN, "SELECT name FROM artist WHERE 0", "SELECT title FROM album WHERE 0",
      "SELECT country FROM artist"], 3, ["failed", "empty", "empty", "rows"]),
    ("nothing runs: the greedy answer stays",
     [UNKNOWN, "SELECT ghost FROM artist", "DROP TABLE artist"], 0,
     ["failed", "failed", "failed"]),
    ("the same columns in another order agree",
     [UNKNOWN, "SELECT name FROM customer", "SELECT name, country FROM artist",
      "SELECT country, name FROM artist"], 2, ["failed", "rows", "rows", "rows"]),
    ("a tie in votes: the earliest",
     [UNKNOWN, "SELECT title FROM album", "SELECT name FROM customer"], 1,
     ["failed", "rows", "rows"]),
    ("repaired answers run but do not vote: two repaired alike lose to one that ran as written",
     [UNKNOWN, "SELECT title FROM album", "SELECT nme FROM artists", "SELECT nam FROM artist"],
     1, ["failed", "rows", "failed", "failed", "rows", "rows"]),
]  # fmt: skip


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def choose_for(
    answers: list[str],
    db_path: Path,
    run: bool = False,
    candidates: int | None = None,
    budget_s: float = 10.0,
    likelihoods: dict[str, float] | None = None,
    weight: float = LIKELIHOOD_WEIGHT,
    **limits,
) -> tuple:
    backend = ScriptedBackend({"question": answers}, likelihoods)
    limited = replace(CANDIDATE_LIMITS, **limits)
    choice = ChoiceSettings(candidates or len(answers), limited, budget_s, weight)
    with open_database(db_path) as db:
        answer = ask(backend, "the question", db.schema(), db, run=run, choice=choice)
    return answer, backend


@pytest.mark.parametrize(
    ("what", "answers", "chosen", "statuses"), CASES, ids=[c[0] for c in CASES]
)
def test_choice(what, answers, chosen, statuses, sample_db: Path) -> None:
    before = checksum(sample_db)
    answer, backend = choose_for(answers, sample_db, run=True)
    prediction = answer.prediction
    assert [c.status for c in prediction.candidates] == statuses
    assert prediction.chosen == chosen
    assert prediction.sql == prediction.candidates[chosen].sql
    assert bool(backend.sampled) == (len(statuses) > 1)  # the fast path samples nothing
    if statuses[chosen] == "rows":  # the rows shown are the chosen candidate's, as it ran
        assert answer.result is not None and not answer.run_error
        assert len(answer.result.rows) == prediction.candidates[chosen].rows
    else:  # nothing ran: no rows, and why
        assert answer.result is None and answer.run_error
    assert checksum(sample_db) == before


def test_votes_count_the_same_answer(sample_db: Path) -> None:
    answer, _ = choose_for(CASES[1][1], sample_db)
    votes = [c.votes for c in answer.prediction.candidates]
    assert votes == [0, 0, 1, 2, 1, 2]
    assert "refused by rule 'read_only'" in answer.prediction.candidates[1].detail
    assert describe(answer.prediction) == "tried 6, 4 ran, chose #4"


ALBUM, CUSTOMER = "SELECT title FROM album", "SELECT name FROM customer"
# (what it shows, greedy answer then candidates, likelihoods, weight, index chosen)
LIKELIHOOD_CASES = [
    ("a tie in votes: the answer the model finds likelier, not the earliest",
     [UNKNOWN, ALBUM, CUSTOMER], {ALBUM: -0.9, CUSTOMER: -0.1}, 4.0, 2),
    ("two votes against one answer far likelier: the likelier",
     [UNKNOWN, ALBUM, ALBUM, CUSTOMER], {ALBUM: -1.0, CUSTOMER: -0.1}, 4.0, 3),
    ("the same with weight 0: votes alone",
     [UNKNOWN, ALBUM, ALBUM, CUSTOMER], {ALBUM: -1.0, CUSTOMER: -0.1}, 0.0, 1),
    ("two votes against one answer a little likelier: the votes",
     [UNKNOWN, ALBUM, ALBUM, CUSTOMER], {ALBUM: -0.3, CUSTOMER: -0.1}, 4.0, 1),
    ("rows beat no rows however likely",
     [UNKNOWN, "SELECT name FROM artist WHERE 0", ALBUM],
     {"SELECT name FROM artist WHERE 0": 0.0, ALBUM: -3.0}, 100.0, 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "answers", "likelihoods", "weight", "chosen"),
    LIKELIHOOD_CASES,
    ids=[c[0] for c in LIKELIHOOD_CASES],
)
def test_the_models_likelihood_weighs_with_the_votes(
    what, answers, likelihoods, weight, chosen, sample_db: Path
) -> None:
    answer, backend = choose_for(answers, sample_db, likelihoods=likelihoods, weight=weight)
    assert answer.prediction.chosen == chosen, what
    if weight == 0:
        assert backend.scored == []


def test_by_default_votes_alone_decide(sample_db: Path) -> None:
    answers = [UNKNOWN, ALBUM, CUSTOMER]
    answer, backend = choose_for(answers, sample_db, likelihoods={CUSTOMER: 0.0})
    assert answer.prediction.chosen == 1 and backend.scored == []


def test_only_disagreeing_contenders_are_scored_each_text_once(sample_db: Path) -> None:
    answers = [UNKNOWN, "SELECT name FROM artist WHERE 0", ALBUM, ALBUM, CUSTOMER]
    answer, backend = choose_for(answers, sample_db, likelihoods={ALBUM: -0.5}, weight=4.0)
    ((prompt, texts),) = backend.scored
    assert sorted(texts) == sorted([ALBUM, CUSTOMER])  # not the empty answer, not the failed one
    assert prompt == backend.prompts[0]  # the whole schema's prompt: nothing was linked
    tried = answer.prediction.candidates
    assert [c.likelihood for c in tried[:5]] == [None, None, -0.5, -0.5, -1.0]
    assert answer.prediction.chosen == 2  # two votes at -0.5 beat one at -1.0


@pytest.mark.parametrize(
    "answers",
    [["SELECT name FROM artist"], [UNKNOWN, ALBUM, ALBUM, "SELECT title FROM album LIMIT 100"]],
    ids=["the greedy answer ran", "the answers that ran agree"],
)
def test_nothing_is_scored_without_a_disagreement(answers: list[str], sample_db: Path) -> None:
    answer, backend = choose_for(answers, sample_db, candidates=4, likelihoods={}, weight=4.0)
    assert backend.scored == []
    assert all(c.likelihood is None for c in answer.prediction.candidates)


def test_samples_are_kept_near_the_greedy_answers_length(sample_db: Path) -> None:
    long_greedy = "SELECT " + ", ".join(f"nope{i}" for i in range(40)) + " FROM artist"
    for greedy, limit in ((UNKNOWN, 32), (long_greedy, int(2.5 * approx_tokens(long_greedy)))):
        _, backend = choose_for([greedy, "SELECT name FROM artist"], sample_db)
        assert backend.sampled[0][1:] == (1, limit)


def test_a_failed_candidate_is_repaired_with_the_schemas_names(sample_db: Path) -> None:
    answer, _ = choose_for([UNKNOWN, "SELECT nme FROM artists"], sample_db)
    tried = answer.prediction.candidates
    assert [(c.status, c.repair_of) for c in tried] == [
        ("failed", None),
        ("failed", None),
        ("rows", 1),
    ]
    assert answer.prediction.chosen == 2 and answer.sql.split() == [
        "SELECT",
        "name",
        "FROM",
        "artist",
    ]
    assert (
        describe(answer.prediction) == "tried 2 + 1 repaired, 1 ran, chose #3 (#2 with "
        "the schema's names)"
    )


def test_with_a_schema_alone_the_checks_decide() -> None:
    schema = parse_ddl("CREATE TABLE artist (artist_id INT, name TEXT);")
    backend = ScriptedBackend(
        {"question": [UNKNOWN, "SELECT nope2 FROM x", "SELECT name FROM artist"]}
    )
    answer = ask(backend, "the question", schema, choice=ChoiceSettings(3))
    assert [c.status for c in answer.prediction.candidates] == ["invalid", "invalid", "valid"]
    assert answer.sql.split() == ["SELECT", "name", "FROM", "artist"] and not answer.problems


def test_one_candidate_is_plain_greedy_and_samples_nothing(sample_db: Path) -> None:
    answer, backend = choose_for([UNKNOWN, "SELECT name FROM artist"], sample_db, candidates=1)
    assert answer.prediction.candidates == () and answer.prediction.sql.split()[1] == "zzzz"
    assert not backend.sampled  # even though the greedy answer fails, nothing more is tried


def test_a_slow_candidate_is_interrupted(sample_db: Path) -> None:
    start = time.perf_counter()
    answers = [UNKNOWN, SLOW.format(10**9), "SELECT name FROM artist"]
    answer, _ = choose_for(answers, sample_db, timeout_s=0.3)
    assert time.perf_counter() - start < 5
    slow = answer.prediction.candidates[1]
    assert slow.status == "failed" and "ran longer than 0.3 s" in slow.detail
    assert answer.prediction.chosen == 2


def test_the_budget_bounds_a_question(sample_db: Path) -> None:
    slow = [SLOW.format(10**9 + i) for i in range(6)]  # six different ones: none deduplicated
    start = time.perf_counter()
    answer, _ = choose_for([UNKNOWN, *slow], sample_db, timeout_s=0.4, budget_s=1.0)
    assert time.perf_counter() - start < 3
    statuses = [c.status for c in answer.prediction.candidates]
    assert statuses[0] == "failed" and "skipped" in statuses
    assert statuses.count("failed") <= 4  # about budget / timeout of them were run


class SlowSampler(ScriptedBackend):
    """Sampling takes longer than the whole checking budget, as on a slow CPU."""

    def sample(self, prompts, n, max_new_tokens=None):
        time.sleep(0.6)
        return super().sample(prompts, n, max_new_tokens)


def test_the_budget_is_for_checking_not_for_sampling(sample_db: Path) -> None:
    backend = SlowSampler({"question": [UNKNOWN, "SELECT name FROM artist"]})
    choice = ChoiceSettings(3, CANDIDATE_LIMITS, budget_s=0.5)
    with open_database(sample_db) as db:
        answer = ask(backend, "the question", db.schema(), db, choice=choice)
    statuses = [c.status for c in answer.prediction.candidates]
    assert statuses == ["failed", "rows", "rows"] and answer.sql.split()[1] == "name"


@pytest.mark.parametrize("bad", [0, 33, 1000, -1, 2.5])
def test_bad_candidate_counts_are_refused(bad) -> None:
    with pytest.raises(SmolsqlError, match="candidates must be a whole number from 1 to 32"):
        ChoiceSettings(bad)


def test_the_adversarial_corpus_as_candidates_changes_nothing(sample_db: Path) -> None:
    """Each candidate meets exactly `run_sql`'s door; the database file stays as it was."""
    corpus = yaml.safe_load((Path(__file__).parent / "fixtures" / "adversarial.yaml").read_text())
    statements = [case["sql"] for case in corpus]
    before = checksum(sample_db)
    seen: list[Candidate] = []
    written = 0
    for start in range(0, len(statements), 31):
        chunk = statements[start : start + 31]
        answer, _ = choose_for(
            [UNKNOWN, *chunk], sample_db, timeout_s=1.0, budget_s=120, max_rows=100
        )
        seen.extend(answer.prediction.candidates[1:])  # repairs too: the same door
        written += sum(c.repair_of is None for c in answer.prediction.candidates[1:])
    assert written == len(statements)
    with open_database(sample_db) as db:
        for candidate in seen:
            if not candidate.sql:  # nothing SQL-like to extract: nothing ran
                assert candidate.status == "failed"
                continue
            try:
                result = run_sql(db, candidate.sql, Limits(100, 1.0))
                expected = "rows" if result.rows else "empty"
            except SmolsqlError as exc:
                expected = "failed"
                assert candidate.detail == str(exc)
            assert candidate.status == expected, candidate.sql
    assert sum("refused by rule" in c.detail for c in seen) >= 40  # 41 when written
    assert checksum(sample_db) == before
    assert {p.name for p in sample_db.parent.iterdir()} == {sample_db.name}


def test_a_recorded_run_replayed_through_the_choosing_stage_chooses_as_it_did(
    sample_db: Path,
) -> None:
    """benchmarks/replay_choice.py measures a change to choosing on recorded answers: with
    the code unchanged, the replay must make every candidate and choice the run made."""
    import importlib.util

    from smolsql.predict import predict
    from smolsql.records import Example

    path = Path(__file__).parents[1] / "benchmarks" / "replay_choice.py"
    spec = importlib.util.spec_from_file_location("replay_choice", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    script = {f"question {i}": answers for i, (_, answers, *_) in enumerate(CASES)}
    examples = [Example(f"question {i}", db_path=str(sample_db)) for i in range(len(CASES))]
    choice = ChoiceSettings(6, likelihood_weight=4.0)
    likelihoods = {ALBUM: -0.2, CUSTOMER: -0.1, "SELECT name FROM artist": -0.3}
    made = predict(ScriptedBackend(script, likelihoods), examples, choice)
    again = predict(module.Replay(made), examples, choice)
    assert any(len(p.candidates) > 1 for p in made)  # the run sampled, and repaired
    assert any(c.likelihood is not None for p in made for c in p.candidates)  # and weighed
    assert [(p.sql, p.chosen, p.candidates) for p in again] == [
        (p.sql, p.chosen, p.candidates) for p in made
    ]


ALTERNATIVES = [
    ("the greedy answer ran: sure", ["SELECT name FROM artist", "SELECT 1"], []),
    ("three of four agree: sure",
     [UNKNOWN, "SELECT count(*) FROM album", "SELECT count(*) FROM album",
      "SELECT count(*) FROM album", "SELECT name FROM artist"], []),
    ("two of four agree, no majority: each answer once, the chosen first",
     CASES[1][1], [3, 2, 4]),
    ("one vote each, a tie", CASES[5][1], [1, 2]),
    ("nothing ran: nothing to show", CASES[3][1], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "answers", "expected"), ALTERNATIVES, ids=[a[0] for a in ALTERNATIVES]
)
def test_alternatives_when_the_candidates_disagree(what, answers, expected, sample_db) -> None:
    answer, _ = choose_for(answers, sample_db)
    assert alternatives(answer.prediction) == expected
    tried = answer.prediction.candidates
    assert len({tried[i].same_as for i in expected}) == len(expected)  # distinct answers
