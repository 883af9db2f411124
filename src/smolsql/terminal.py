"""Terminal output: result tables, and a one-line progress report for the long stages."""

from __future__ import annotations

import sys
import time

from smolsql.db import Result


def _cell(value: object, width: int = 40) -> str:
    text = "NULL" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(result: Result) -> str:
    """Rows as an aligned table, with a closing line that says how many."""
    if not result.columns:
        return "(no rows)"
    header = [_cell(c) for c in result.columns]
    body = [[_cell(v) for v in row] for row in result.rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), "-+-".join("-" * w for w in widths)]
    lines += [line(r) for r in body]
    count = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    count += ", cut at the row limit)" if result.truncated else ")"
    return "\n".join([*lines, count])


class Progress:
    """A one-line progress report on stderr (redrawn on a terminal, every 10% otherwise)."""

    def __init__(self, label: str, total: int, start: int = 0) -> None:
        self.label, self.total, self.count = label, total, start
        self.started = time.perf_counter()
        self.first = start
        self.tty = sys.stderr.isatty()
        self.last_decile = -1

    def advance(self, n: int = 1) -> None:
        self.count += n
        rate = (self.count - self.first) / max(time.perf_counter() - self.started, 1e-9)
        left = (self.total - self.count) / rate if rate else 0
        line = f"{self.label}: {self.count}/{self.total} ({rate:.2f}/s, ~{left:.0f} s left)"
        decile = self.count * 10 // max(self.total, 1)
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif decile != self.last_decile:
            print(line, file=sys.stderr, flush=True)
        self.last_decile = decile

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)
