"""The evaluation stage: `Prediction`s in, `Score`s and a summary out."""

from smolsql.evaluate.metrics import exact_match, score, score_all, summarize

__all__ = ["exact_match", "score", "score_all", "summarize"]
