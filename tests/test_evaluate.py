"""Execution comparison as (gold, predicted, expected verdict) tables, on real SQLite."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from smolsql.cli import main
from smolsql.evaluate import score, summarize
from smolsql.evaluate.metrics import wrong_tables
from smolsql.records import Example, Prediction, Score, read_jsonl, write_jsonl

SETUP = """
CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept TEXT, salary REAL, boss INT);
INSERT INTO emp VALUES (1, 'Ann', 'ops', 100.0, NULL), (2, 'Bob', 'ops', 80.5, 1),
  (3, 'Cy', 'dev', 120.25, 1), (4, 'Di', 'dev', 80.5, 3);
"""

CASES = [
    # (gold, predicted, expected execution verdict)
    ("SELECT name FROM emp", "SELECT name FROM emp ORDER BY name DESC", "correct"),  # multiset
    ("SELECT name FROM emp ORDER BY salary DESC, id", "SELECT name FROM emp", "wrong"),  # order
    ("SELECT name FROM emp ORDER BY id", "SELECT name FROM emp ORDER BY id", "correct"),
    ("SELECT dept FROM emp", "SELECT DISTINCT dept FROM emp", "wrong"),  # duplicates count
    ("SELECT avg(salary) FROM emp", "SELECT sum(salary) / 4.0 FROM emp", "correct"),  # float
    ("SELECT 1.0 / 3", "SELECT 0.3333333333", "correct"),  # tolerance
    ("SELECT 1.0 / 3", "SELECT 0.334", "wrong"),
    ("SELECT count(*) FROM emp", "SELECT 4.0", "correct"),  # 4 == 4.0
    ("SELECT boss FROM emp WHERE id = 1", "SELECT NULL", "correct"),  # NULL equals NULL
    ("SELECT boss FROM emp WHERE id = 1", "SELECT 0", "wrong"),
    ("SELECT name FROM emp WHERE id > 9", "SELECT name FROM emp WHERE 0", "correct"),  # empty
    ("SELECT name FROM emp", "SELECT nme FROM emp", "pred_error"),
    ("SELECT nope FROM nowhere", "SELECT 1", "gold_error"),
    ("SELECT name FROM emp", "", "no_sql"),
    (  # a query that never ends is stopped, and counts as the prediction's error
        "SELECT 1",
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c",
        "pred_error",
    ),
    # DML: the state left behind is compared, not the (absent) rows
    ("UPDATE emp SET salary = salary * 2 WHERE dept = 'ops'",
     "UPDATE emp SET salary = 2 * salary WHERE name IN ('Ann', 'Bob')", "correct"),
    ("DELETE FROM emp WHERE salary < 90", "DELETE FROM emp WHERE salary < 81", "correct"),
    ("DELETE FROM emp WHERE salary < 90", "DELETE FROM emp WHERE salary < 80", "wrong"),
    ("INSERT INTO emp VALUES (5, 'Ed', 'dev', 90, 3)",
     "INSERT INTO emp (id, name, dept, salary, boss) VALUES (5, 'Ed', 'dev', 90.0, 3)",
     "correct"),
    # the same columns in another order: a match, as Spider's test-suite evaluation has it
    ("SELECT max(salary), min(salary) FROM emp", "SELECT min(salary), max(salary) FROM emp",
     "correct"),
    ("SELECT name, dept FROM emp ORDER BY id", "SELECT dept, name FROM emp ORDER BY id",
     "correct"),
    ("SELECT name, dept FROM emp ORDER BY id", "SELECT dept, name FROM emp ORDER BY id DESC",
     "wrong"),
    # gold in MySQL syntax that SQLite cannot run is transpiled before it counts as failed
    ("SELECT `name` FROM emp WHERE id = 2", "SELECT name FROM emp WHERE id = 2", "correct"),
]  # fmt: skip


def _prediction(gold: str, pred: str, **example: object) -> Prediction:
    ex = Example("q", "", gold, **{"setup_sql": SETUP, **example})  # type: ignore[arg-type]
    return Prediction(ex, pred)


@pytest.mark.parametrize(("gold", "pred", "verdict"), CASES)
def test_execution_verdicts(gold: str, pred: str, verdict: str) -> None:
    result = score(_prediction(gold, pred), timeout_s=0.5)
    assert result.execution == verdict, result.detail


def test_mysql_setup_is_transpiled_for_sqlite() -> None:
    setup = (
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;"
        "INSERT INTO t (v) VALUES ('a'), ('b');"
    )
    result = score(_prediction("SELECT count(*) FROM t", "SELECT 2", setup_sql=setup))
    assert result.execution == "correct", result.detail


def test_a_database_file_is_used_read_only(sample_db: Path) -> None:
    ex = Example("q", "", "SELECT count(*) FROM artist", str(sample_db))
    assert score(Prediction(ex, "SELECT count(artist_id) FROM artist")).execution == "correct"
    wrote = score(Prediction(ex, "DELETE FROM artist"))
    assert wrote.execution == "pred_error" and "refused" in wrote.detail
    assert score(Prediction(ex, "SELECT count(*) FROM artist")).execution == "correct"


@pytest.mark.parametrize(
    ("gold", "pred", "verdict"),
    [
        (
            "DELETE FROM artist WHERE artist_id = 1",
            "DELETE FROM artist WHERE name = (SELECT name FROM artist WHERE artist_id = 1)",
            "correct",
        ),
        (
            "DELETE FROM artist WHERE artist_id = 1",
            "DELETE FROM artist WHERE artist_id = 2",
            "wrong",
        ),
        ("UPDATE artist SET country = 'PT'", "UPDATE artist SET country = 'PT' WHERE 1", "correct"),
    ],
)
def test_writes_only_on_a_throwaway_copy_when_allowed(sample_db, gold, pred, verdict) -> None:
    import hashlib

    before = hashlib.sha256(sample_db.read_bytes()).hexdigest()
    prediction = Prediction(Example("q", sql=gold, db_path=str(sample_db)), pred)
    assert score(prediction).execution == "gold_error"  # read-only by default
    assert score(prediction, allow_writes=True).execution == verdict
    assert hashlib.sha256(sample_db.read_bytes()).hexdigest() == before
    assert {p.name for p in sample_db.parent.iterdir()} == {sample_db.name}


def test_syntax_validity_and_exact_match() -> None:
    same = score(_prediction("SELECT name FROM emp", "select NAME   from EMP"))
    assert same.syntax_valid and same.exact_match
    broken = score(_prediction("SELECT name FROM emp", "SELECT name FROM WHERE"))
    assert not broken.syntax_valid and not broken.exact_match


def test_summary_leaves_failed_gold_out_and_counts_empty_matches() -> None:
    scores = [
        score(_prediction("SELECT 1", "SELECT 1", meta={"db_id": "a", "sql_complexity": "joins"})),
        score(_prediction("SELECT 1", "SELECT 2", meta={"db_id": "b"})),
        score(_prediction("SELECT x FROM nowhere", "SELECT 1", meta={"db_id": "b"})),
        score(_prediction("SELECT name FROM emp WHERE 0", "SELECT id FROM emp WHERE 0")),
    ]
    summary = summarize(scores)
    assert summary["execution_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["gold_failed"] == 1 and summary["correct_empty_result"] == 1
    assert summary["by_db_id"]["a"]["execution_accuracy"] == 1.0
    assert summary["by_db_id"]["b"]["execution_accuracy"] == 0.0
    assert summary["by_sql_complexity"] == {
        "joins": {"n": 1, "execution_accuracy": 1.0, "syntax_valid": 1.0, "exact_match": 1.0}
    }


SHOP = """
CREATE TABLE genre (id INT PRIMARY KEY, name TEXT);
CREATE TABLE track (id INT PRIMARY KEY, name TEXT, genre_id INT REFERENCES genre(id));
CREATE TABLE album (id INT PRIMARY KEY, title TEXT);
INSERT INTO genre VALUES (1, 'Rock'), (2, 'Jazz');
INSERT INTO track VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 1);
INSERT INTO album VALUES (1, 'x');
"""
ROCK = "SELECT T.name FROM track AS T JOIN genre AS G ON T.genre_id = G.id WHERE G.name = 'Rock'"

TABLE_CASES = [
    # (a wrong answer to ROCK, how its tables stand to the gold SQL's)
    ("SELECT name FROM track WHERE genre_id = 'Rock'", "too few: a join skipped"),
    ("SELECT G.name FROM track AS T JOIN genre AS G ON T.genre_id = G.id", "the gold tables"),
    ("SELECT title FROM album", "other tables"),
    ("SELECT T.name FROM track AS T JOIN genre AS G ON T.genre_id = G.id JOIN album AS A "
     "ON A.id = T.id WHERE G.name = 'Jazz'", "extra tables"),
    ("SELECT name FROM nowhere", "no table"),
    ("SELEC name", "no table"),
]  # fmt: skip


@pytest.mark.parametrize(("pred", "kind"), TABLE_CASES)
def test_wrong_answers_are_sorted_by_their_tables(pred: str, kind: str) -> None:
    wrong = score(Prediction(Example("Rock tracks?", SHOP, ROCK, setup_sql=SHOP), pred))
    assert wrong.execution in ("wrong", "pred_error")
    assert wrong_tables([wrong]) == {kind: 1}


def test_the_report_counts_wrong_answers_by_tables_and_linked_prompts_that_missed_one(
    tmp_path: Path,
) -> None:
    from smolsql.evaluate.report import write_report

    linked = "CREATE TABLE track (id INT PRIMARY KEY, name TEXT, genre_id INT);"
    asked = [  # (answer, linked schema shown): right, skipped join twice, once linked badly
        (ROCK, ""),
        ("SELECT name FROM track WHERE genre_id = 'Rock'", ""),
        ("SELECT name FROM track WHERE genre_id = 1 AND id > 1", linked),
    ]
    scores = [
        score(
            Prediction(
                Example("Rock tracks?", SHOP, ROCK, setup_sql=SHOP, linked_schema=shown), sql
            )
        )
        for sql, shown in asked
    ]
    summary = summarize(scores)
    assert summary["wrong_tables"] == {
        "too few: a join skipped": 2,
        "linked prompt lacked a gold table": 1,
    }
    report = write_report(tmp_path, scores, summary).read_text()
    assert "| too few: a join skipped | 2 | 100% |" in report
    asked_whole = replace(scores[2].prediction.example, whole_first=True)  # it saw them all
    again = score(replace(scores[2].prediction, example=asked_whole))
    assert wrong_tables([again]) == {"too few: a join skipped": 1}


def test_latency_has_median_and_mean() -> None:
    """Greedy-only questions are fast, sampled ones slow: the mean shows what the median hides."""

    fast, slow = (replace(_prediction("SELECT 1", "SELECT 1"), latency_ms=ms) for ms in (250, 1650))
    summary = summarize([score(p) for p in (fast, fast, slow, slow, slow)])
    assert summary["latency_ms_median"] == 1650
    assert summary["latency_ms_mean"] == 1090


def test_predict_then_eval_through_the_cli(tmp_path: Path, sample_db: Path, capsys) -> None:
    data = tmp_path / "data.jsonl"
    write_jsonl(
        data,
        [
            Example("How many artists?", "", "SELECT count(*) FROM artist", str(sample_db), id="a"),
            Example(
                "Who is in Lisbon?",
                "",
                "SELECT name FROM customer WHERE city = 'Lisbon'",
                str(sample_db),
                id="b",
            ),
            Example("any ghost?", "", "SELECT 1", str(sample_db), id="c"),
        ],
    )
    run = tmp_path / "run"
    argv = ["predict", "--data", str(data), "--out", str(run), "--backend", "fakes:scripted"]
    assert main([*argv, "--limit", "2"]) == 0
    assert main(argv) == 0  # resumes: only the third example is predicted again
    predictions = list(read_jsonl(run / "predictions.jsonl", Prediction))
    assert [p.example.id for p in predictions] == ["a", "b", "c"]
    assert main(["eval", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["execution_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    scores = list(read_jsonl(run / "scores.jsonl", Score))
    assert [s.execution for s in scores] == ["correct", "correct", "pred_error"]
    assert "execution_accuracy: 0.6667" in capsys.readouterr().out


def test_report_and_compare(tmp_path: Path, capsys) -> None:
    from smolsql.evaluate.report import write_report

    runs = []
    # (database, question id): base is right on y only, tuned on both of x's questions only.
    asked = [("x", "1"), ("x", "2"), ("y", "3")]
    for name, preds in (
        ("base", ["SELECT 2", "SELECT 2", "SELECT 1"]),
        ("tuned", ["SELECT 1", "SELECT 1", "SELECT 2"]),
    ):
        run = tmp_path / name
        run.mkdir()
        scores = [
            score(_prediction("SELECT 1", pred, id=qid, meta={"db_id": db}))
            for (db, qid), pred in zip(asked, preds, strict=True)
        ]
        write_jsonl(run / "scores.jsonl", scores)
        report = write_report(run, scores, summarize(scores)).read_text()
        assert "| execution_accuracy |" in report
        assert (run / "error_types.png").stat().st_size > 0
        assert (run / "accuracy_by_db_id.png").exists()
        runs.append(str(run))
    assert "## Failures (first 2 of 2)" in (tmp_path / "base" / "report.md").read_text()
    assert main(["compare", *runs]) == 0
    out = capsys.readouterr().out
    assert "| metric | base | tuned |" in out and "| execution_accuracy | 33.3% | 66.7% |" in out
    assert "| same SQL as base | 100.0% | 0.0% |" in out
    assert "| x | 2 | 0.0% | 100.0% |" in out and "| y | 1 | 100.0% | 0.0% |" in out
    assert "tuned against base: better on 1 of 2 databases, worse on 1" in out
    assert "| right here only / in base only | 0 / 0 | 2 / 1 |" in out  # x's two; y
    assert "| sign test p | 1.00 | 1.00 |" in out  # three questions prove nothing
    assert "greedy:" not in out  # one answer a question: greedy is the default
    assert main(["compare", str(tmp_path / "nope")]) == 2


@pytest.mark.parametrize(
    ("gained", "lost", "p"),
    [
        (0, 0, 1.0),  # no question flipped
        (5, 5, 1.0),
        (10, 0, 2 / 2**10),  # ten flips, all one way
        (15, 5, 0.0414),  # 15 against 5: unlikely by luck alone
        (21, 26, 0.5601),  # a point of accuracy on 479 questions: luck
    ],
)
def test_sign_test(gained: int, lost: int, p: float) -> None:
    from smolsql.evaluate.report import sign_test

    assert sign_test(gained, lost) == pytest.approx(p, abs=1e-4)
    assert sign_test(lost, gained) == sign_test(gained, lost)


def test_strict_columns_keeps_the_order() -> None:
    prediction = _prediction("SELECT max(id), min(id) FROM emp", "SELECT min(id), max(id) FROM emp")
    assert score(prediction).execution == "correct"
    assert score(prediction, strict_columns=True).execution == "wrong"


def test_candidates_give_greedy_chosen_and_oracle_from_one_run() -> None:

    from smolsql.records import Candidate

    def tried(gold: str, sqls: list[str], chosen: int, db: str = "a") -> Prediction:
        base = _prediction(gold, sqls[chosen], meta={"db_id": db})
        return replace(base, candidates=tuple(Candidate(s) for s in sqls), chosen=chosen)

    scores = [
        score(tried("SELECT 1", ["SELECT 2", "SELECT 1"], 1)),  # chosen right, greedy wrong
        score(tried("SELECT 1", ["SELECT 2", "SELECT nope", "SELECT 1"], 1)),  # only oracle
        score(tried("SELECT 1", ["SELECT 1"], 0, db="b")),  # the fast path
        score(_prediction("SELECT 1", "SELECT 3", meta={"db_id": "b"})),  # greedy itself
    ]
    assert scores[1].candidate_execution == ("wrong", "pred_error", "correct")
    summary = summarize(scores)
    assert summary["execution_accuracy"] == 0.5
    assert summary["greedy_execution_accuracy"] == 0.25
    assert summary["oracle_execution_accuracy"] == 0.75
    assert summary["chosen_not_greedy"] == 2 and summary["candidates_sampled"] == 2
    by_db = summary["by_db_id"]  # each database's greedy and oracle too, for `compare`
    assert (by_db["a"]["greedy_execution_accuracy"], by_db["a"]["oracle_execution_accuracy"]) == (
        0.0,
        1.0,
    )
    assert by_db["b"]["greedy_execution_accuracy"] == 0.5


def test_compare_puts_greedy_beside_the_default_by_database(tmp_path: Path, capsys) -> None:
    """Two runs with candidates: one table for the default answer, one for the greedy one."""

    from smolsql.evaluate.report import compare_runs, write_report
    from smolsql.records import Candidate

    runs = []
    for name, sqls in (("first", ["SELECT 2", "SELECT 1"]), ("second", ["SELECT 1"])):
        base = _prediction("SELECT 1", "SELECT 1", meta={"db_id": "a"})
        chosen = len(sqls) - 1
        tried = replace(base, candidates=tuple(Candidate(s) for s in sqls), chosen=chosen)
        scores = [score(tried)]
        run = tmp_path / name
        run.mkdir()
        write_jsonl(run / "scores.jsonl", scores)
        write_report(run, scores, summarize(scores))
        runs.append(run)
    out = compare_runs(runs)
    default, greedy = out.split("Greedy execution accuracy by database:")
    assert "| a | 1 | 100.0% | 100.0% |" in default  # both chose the right answer
    assert "| a | 1 | 0.0% | 100.0% |" in greedy  # only the second was right at once
    assert "second against first: better on 1 of 1 databases, worse on 0" in greedy
    assert "| right here only / in first only | 0 / 0 | 0 / 0 |" in out  # both chose it
    assert "| greedy: right here only / in first only | 0 / 0 | 1 / 0 |" in out


def test_dialect_names_from_data_files(tmp_path: Path, capsys) -> None:
    alias = score(_prediction("SELECT 1", "SELECT 1", dialect="postgresql"))
    assert alias.syntax_valid and alias.execution == "correct"
    run = tmp_path / "run"
    write_jsonl(run / "predictions.jsonl", [_prediction("SELECT 1", "SELECT 1", dialect="klingon")])
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown SQL dialect 'klingon'" in err
