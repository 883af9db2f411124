"""One exception type for everything a user can get wrong.

The CLI, the API and the app turn a `SmolsqlError` into one clear line; any
other exception is a bug in smolsql.
"""

from __future__ import annotations

from pathlib import Path


class SmolsqlError(Exception):
    """A problem the user can fix: bad input, a missing file, an unknown model."""


def read_text(path: str | Path, what: str) -> str:
    """A user's UTF-8 text file; a missing or unreadable one is a `SmolsqlError` naming `what`."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SmolsqlError(f"{what} not found: {path}") from None
    except UnicodeDecodeError:
        raise SmolsqlError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise SmolsqlError(f"cannot read {path}: {exc.strerror}") from None
