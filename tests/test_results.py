"""When two results are the same answer: one table of cases for the one comparison."""

from __future__ import annotations

import pytest

from smolsql.sql.results import same_result

# (gold rows, predicted rows, gold ordered, strict columns, same?)
CASES = [
    ([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], False, False, True),  # a multiset
    ([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], True, False, False),  # order matters
    ([(1,), (1,)], [(1,)], False, False, False),  # duplicates count
    ([(3,)], [(3.0,)], False, False, True),  # 3 equals 3.0
    ([(0.1234567,)], [(0.1234568,)], False, False, True),  # 6 significant digits
    ([(0.12345,)], [(0.12346,)], False, False, False),
    ([(True,)], [(1,)], False, False, True),
    ([], [], False, False, True),
    ([], [(1,)], False, False, False),
    ([(9, 1)], [(1, 9)], False, False, True),  # SELECT max, min vs SELECT min, max
    ([(9, 1)], [(1, 9)], False, True, False),  # ... unless strict
    ([("x", 1), ("y", 2)], [(2, "y"), (1, "x")], True, False, False),  # swapped, wrong order
    ([("x", 1), ("y", 2)], [(1, "x"), (2, "y")], True, False, True),  # swapped, same order
    ([("x", 1), ("y", 2)], [(1, "y"), (2, "x")], False, False, False),  # columns, not pairs
    ([(1, 2)], [(1, 2, 3)], False, False, False),  # another width
    ([(1, 1, 2)], [(2, 1, 1)], False, False, True),  # identical columns: some order fits
    ([(float("nan"),)], [(float("nan"),)], False, False, True),
]


@pytest.mark.parametrize(("gold", "pred", "ordered", "strict", "same"), CASES)
def test_same_result(gold, pred, ordered, strict, same) -> None:
    assert same_result(gold, pred, ordered, strict) is same


def test_many_identical_columns_stay_cheap() -> None:
    gold = [tuple([1] * 12), tuple([2] * 12)]
    pred = [tuple([1] * 11 + [3]), tuple([2] * 11 + [3])]
    assert same_result(gold, pred) is False  # 12! orders are not all tried
