"""Plain-text tables for the terminal."""

from __future__ import annotations

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
