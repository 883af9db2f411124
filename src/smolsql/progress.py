"""A one-line progress report on stderr, for the long stages (predict, eval)."""

from __future__ import annotations

import sys
import time


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
