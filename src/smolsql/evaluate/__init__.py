"""The evaluation stage: `Prediction`s in, `Score`s and a summary out."""

from smolsql.evaluate.metrics import exact_match, score, summarize

__all__ = ["exact_match", "score", "summarize"]
