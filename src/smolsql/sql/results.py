"""When two query results are the same answer: the one comparison evaluation and choosing use.

Execution accuracy asks whether a prediction's rows equal the gold query's rows;
choosing among candidates asks which candidates' rows agree with each other.
Both ask it here, with the rules of Spider's official test-suite evaluation:
rows compare as multisets unless order matters, numbers to 6 significant digits,
and the same columns in another order are the same answer (unless `strict_columns`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

Rows = Sequence[Sequence[Any]]

MAX_COLUMN_ORDERS = 1000
"""Column orders tried at most (columns with identical values make many equally good)."""


def normalize_value(value: Any) -> Any:
    """Numbers compare within a tolerance (6 significant digits); 3 equals 3.0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer():
            return int(value)
        return float(f"{value:.6g}")
    return value


def same_result(
    gold: Rows, pred: Rows, ordered: bool = False, strict_columns: bool = False
) -> bool:
    """True when `pred`'s rows are `gold`'s rows: in order if `ordered`, else as multisets.

    Unless `strict_columns`, `pred` may hold the same columns in another order
    (`SELECT min(x), max(x)` answers `SELECT max(x), min(x)`).
    """
    a = [tuple(normalize_value(v) for v in row) for row in gold]
    b = [tuple(normalize_value(v) for v in row) for row in pred]
    if len(a) != len(b):
        return False
    if not a:
        return True
    if {len(r) for r in a} != {len(r) for r in b}:
        return False
    if _rows_equal(a, b, ordered):
        return True
    if strict_columns:
        return False
    return any(
        _rows_equal(a, [tuple(row[j] for j in order) for row in b], ordered)
        for order in _column_orders(a, b)
    )


def _rows_equal(a: list[tuple], b: list[tuple], ordered: bool) -> bool:
    return a == b if ordered else Counter(a) == Counter(b)


def _column_orders(a: list[tuple], b: list[tuple]) -> Iterator[tuple[int, ...]]:
    """Orders of b's columns under which each column holds the values of a's column there."""
    width = len(a[0])
    if any(len(r) != width for r in a + b):
        return
    gold_columns = [frozenset(Counter(row[i] for row in a).items()) for i in range(width)]
    pred_columns = [frozenset(Counter(row[j] for row in b).items()) for j in range(width)]
    if Counter(gold_columns) != Counter(pred_columns):
        return  # no order of b's columns holds a's columns (and the search below would be long)
    # Columns pair up within groups of equal values, so every partial order below completes.
    options = [
        [j for j in range(width) if pred_columns[j] == gold_columns[i]] for i in range(width)
    ]
    tried = 0

    def extend(prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        nonlocal tried
        if len(prefix) == width:
            tried += 1
            yield prefix
            return
        for j in options[len(prefix)]:
            if j not in prefix and tried < MAX_COLUMN_ORDERS:
                yield from extend((*prefix, j))

    yield from extend(())
