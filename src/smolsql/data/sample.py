"""The bundled sample database, built from a committed SQL script on first use."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from smolsql.db import Database, open_database
from smolsql.models import cache_dir

SCRIPT = Path(__file__).parent / "sample.sql"
NAME = "sample"
QUESTIONS = (
    "How many artists are there?",
    "Which albums were released after 2010?",
    "What is the average album price per genre?",
    "Which customers live in Lisbon?",
    "How many albums has each artist released?",
)


def build_sqlite(script: Path, target: Path) -> Path:
    """Run `script` into a new SQLite file at `target` (replacing any old one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(script.read_text(encoding="utf-8"))
        conn.commit()
    finally:
        conn.close()
    tmp.replace(target)
    return target


def sample_db_path() -> Path:
    """The sample SQLite file, rebuilt whenever the script changes."""
    digest = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:12]
    target = cache_dir() / "sample" / f"sample-{digest}.sqlite"
    return target if target.exists() else build_sqlite(SCRIPT, target)


def open_target(target: str) -> Database:
    """`sample` names the bundled database; anything else is a file or a SQLAlchemy URL."""
    return open_database(sample_db_path() if target == NAME else target)
