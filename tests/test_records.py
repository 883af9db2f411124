from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.errors import SmolsqlError
from smolsql.records import (
    Candidate,
    Example,
    Prediction,
    Score,
    Verdict,
    append_jsonl,
    read_jsonl,
    write_jsonl,
)


def test_examples_and_predictions_round_trip(tmp_path: Path) -> None:
    ex = Example(
        "How many?",
        "CREATE TABLE t (a INT);",
        "SELECT count(*) FROM t",
        "x.db",
        meta={"db_id": "x", "tags": ["a"]},
    )
    pred = Prediction(ex, "SELECT 1", raw="SELECT 1<|im_end|>", model="m", latency_ms=3.5)
    write_jsonl(tmp_path / "e.jsonl", [ex, ex])
    append_jsonl(tmp_path / "p.jsonl", [pred])
    append_jsonl(tmp_path / "p.jsonl", [pred])
    assert list(read_jsonl(tmp_path / "e.jsonl", Example)) == [ex, ex]
    assert list(read_jsonl(tmp_path / "p.jsonl", Prediction)) == [pred, pred]
    score = Score(pred, True, False, "wrong", judge=Verdict(False, "logic_error", "why"))
    write_jsonl(tmp_path / "s.jsonl", [score, Score(pred, False, False, "no_sql")])
    assert list(read_jsonl(tmp_path / "s.jsonl", Score)) == [
        score,
        Score(pred, False, False, "no_sql"),
    ]


def test_candidates_round_trip(tmp_path: Path) -> None:
    ex = Example("How many?", "CREATE TABLE t (a INT);", "SELECT count(*) FROM t", "x.db")
    tried = (
        Candidate("SELECT b FROM t", "SELECT b FROM t", "failed", "no such column: b"),
        Candidate("SELECT count(*) FROM t", "x", "rows", rows=1, votes=2),
    )
    pred = Prediction(ex, "SELECT count(*) FROM t", candidates=tried, chosen=1)
    score = Score(pred, True, False, "correct", candidate_execution=("pred_error", "correct"))
    write_jsonl(tmp_path / "s.jsonl", [score])
    (back,) = read_jsonl(tmp_path / "s.jsonl", Score)
    assert back == score and isinstance(back.prediction.candidates, tuple)
    assert back.prediction.candidates[1].votes == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"question": "q"}\nnot json\n', r"e\.jsonl:2: not JSON"),
        ('{"question": "q", "colour": 1}\n', r"e\.jsonl:1: unknown Example field\(s\): colour"),
        ('{"schema": "x"}\n', "needs a 'question'"),
        ("[1, 2]\n", "expected a JSON object"),
        ('{"question": 3}\n', "needs a 'question' string"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(content)
    with pytest.raises(SmolsqlError, match=message):
        list(read_jsonl(path, Example))


def test_non_utf8_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SmolsqlError, match="not UTF-8"):
        list(read_jsonl(tmp_path / "bin.jsonl", Example))
    with pytest.raises(SmolsqlError, match="cannot read"):
        list(read_jsonl(tmp_path / "missing.jsonl", Example))
