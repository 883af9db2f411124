"""Which results the app draws as a chart, as (columns, rows, expected chart) cases."""

from __future__ import annotations

import pandas as pd
import pytest

from smolsql.serve.chart import Chart, chart_for

CASES = [
    ("a label and a number: bars", ["artist", "albums"], [("A", 2), ("B", 1)],
     Chart("bar", "artist", ("albums",))),
    ("a label and two numbers", ["genre", "albums", "price"], [("rock", 3, 9.5), ("jazz", 1, 7.0)],
     Chart("bar", "genre", ("albums", "price"))),
    ("dates and a number: a line", ["day", "sales"], [("2024-01-01", 5), ("2024-01-02", 7)],
     Chart("line", "day", ("sales",))),
    ("one number alone", ["count"], [(5,), (6,)], None),
    ("one row", ["artist", "albums"], [("A", 2)], None),
    ("two labels and a number", ["name", "city", "age"], [("a", "x", 1), ("b", "y", 2)], None),
    ("numbers only", ["year", "albums"], [(1999, 2), (2000, 3)], None),
    ("labels only", ["name", "city"], [("a", "x"), ("b", "y")], None),
    ("four columns", ["a", "b", "c", "d"], [("x", 1, 2, 3), ("y", 4, 5, 6)], None),
    ("true or false is not a number", ["name", "active"], [("a", True), ("b", False)], None),
    ("text shaped like a year and month that is not one", ["code", "n"],
     [("2024-13", 1), ("2024-14", 2)], Chart("bar", "code", ("n",))),
]  # fmt: skip


@pytest.mark.parametrize(("what", "columns", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
def test_chart_for(what: str, columns, rows, expected) -> None:
    assert chart_for(pd.DataFrame(rows, columns=columns)) == expected


def test_many_rows_stay_a_table() -> None:
    frame = pd.DataFrame([(f"n{i}", i) for i in range(501)], columns=["name", "n"])
    assert chart_for(frame) is None
