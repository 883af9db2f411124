"""The evaluation stage as one call: a run's predictions in; its scores, metrics and report out.

`smolsql eval RUN` is this function and a few printed lines; `smolsql.predict.predict_to_file`
is the stage before it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smolsql.evaluate.metrics import score, summarize
from smolsql.evaluate.report import write_report
from smolsql.records import Prediction, Score, read_jsonl, write_jsonl
from smolsql.terminal import Progress

if TYPE_CHECKING:
    from smolsql.evaluate.judge import JudgeConfig


def evaluate_run(
    run: Path,
    timeout_s: float = 10.0,
    allow_writes: bool = False,
    strict_columns: bool = False,
    judge: JudgeConfig | None = None,
) -> tuple[dict[str, Any], Path]:
    """Score `run` (a run folder, or its predictions.jsonl); (summary, report path).

    Writes scores.jsonl, metrics.json and report.md beside the predictions. `judge`
    also asks an LLM judge for a verdict on every prediction.
    """
    source = run / "predictions.jsonl" if run.is_dir() else run
    folder = source.parent
    predictions = list(read_jsonl(source, Prediction))
    progress = Progress("eval", len(predictions))
    scores: list[Score] = []
    for prediction in predictions:
        scores.append(score(prediction, timeout_s, allow_writes, strict_columns))
        progress.advance()
    progress.close()
    if judge is not None:
        from smolsql.evaluate.judge import Judge

        verdicts = Judge(judge).judge_all([s.prediction for s in scores])
        scores = [replace(s, judge=v) for s, v in zip(scores, verdicts, strict=True)]
    write_jsonl(folder / "scores.jsonl", scores)
    summary = summarize(scores)
    return summary, write_report(folder, scores, summary)
