"""Which results the app also draws: one label or date column beside one or two numbers.

A bar per label ("albums per artist"), or a line over dates ("sales per day"); anything
else (one number, many columns, thousands of rows) stays a table only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MAX_POINTS = 500


@dataclass(frozen=True)
class Chart:
    kind: str
    """bar (labels) or line (dates)."""
    x: str
    y: tuple[str, ...]


def chart_for(frame: pd.DataFrame) -> Chart | None:
    """The chart a person would draw of `frame`, or None where a table says it better."""
    if not 2 <= len(frame) <= MAX_POINTS or not 2 <= len(frame.columns) <= 3:
        return None
    numbers = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    labels = [c for c in frame.columns if c not in numbers]
    if len(labels) != 1 or not 1 <= len(numbers) <= 2:
        return None
    x = labels[0]
    return Chart("line" if _dates(frame[x]) else "bar", x, tuple(numbers))


def _dates(column: pd.Series) -> bool:
    """Whether every value reads as a date or a time (ISO text, as SQLite keeps them)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    text = column.dropna().astype(str)
    if text.empty or not text.str.match(r"^\d{4}-\d{2}(-\d{2})?").all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    return bool(parsed.notna().all())
