"""Answers a person checked, kept per database: one store for the CLI, the API and the app.

Each database has one JSON Lines file of `Kept` records (`$SMOLSQL_KEPT_DIR`, else the
cache's `kept/`, as `<name>-<hash>.jsonl`, named by what the database is: its file's
absolute path or its URL without the password) unless the user names a file. A person
can read and edit it. The same question with the same query (after normalization) is kept
once; past `MAX_KEPT` the oldest go. Every change is a read, a change and an atomic
rewrite under a file lock, so two API workers adding at once lose nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from smolsql.db import Database, Limits
from smolsql.errors import SmolsqlError
from smolsql.records import Kept, Solved, read_jsonl, write_jsonl
from smolsql.settings import env
from smolsql.sql.guard import check_sql
from smolsql.sql.run import run_sql
from smolsql.sql.text import normalized_sql

MAX_KEPT = 1000
"""Kept answers per database; each new question is compared with all of them."""
SOURCES = ("app", "api", "cli", "import")
"""Where an answer was kept from."""


def database_key(target: str) -> str:
    """A file name for a database: its name, and a hash of where it is (no password)."""
    if "://" in target:
        where = re.sub(r"://([^:/@]+):[^@]*@", r"://\1@", target)  # the password never counts
        name = where.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "database"
    else:
        path = Path(target).expanduser()
        where = str(path.resolve()) if path.exists() else target
        name = path.stem or "database"
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:40]}-{digest}"


def default_path(target: str) -> Path:
    """$SMOLSQL_KEPT_DIR/<name>-<hash>.jsonl, else the same under the cache's kept/."""
    from smolsql.models import cache_dir

    folder = Path(env("SMOLSQL_KEPT_DIR") or cache_dir() / "kept")
    return folder / f"{database_key(target)}.jsonl"


class KeptAnswers:
    """The kept answers of one database, in the order they were kept."""

    def __init__(self, path: str | Path, dialect: str = "sqlite", cap: int = MAX_KEPT) -> None:
        self.path = Path(path)
        self.dialect = dialect
        self.cap = cap

    @classmethod
    def of(cls, target: str, path: str | Path | None = None, dialect: str = "sqlite"):
        """The store of the database `target` (as --db names it), or the file `path`."""
        return cls(path or default_path(target), dialect)

    def list(self) -> list[Kept]:
        if not self.path.exists():
            return []
        try:
            return list(read_jsonl(self.path, Kept))
        except SmolsqlError as exc:
            raise SmolsqlError(f"{exc} (not a file of kept answers?)") from None

    def solved(self) -> tuple[Solved, ...]:
        """What prompts read: every kept answer as a question and its SQL."""
        return tuple(k.solved() for k in self.list())

    def add(self, question: str, sql: str, by: str) -> Kept:
        """Keep one answer (or return the same one kept before)."""
        return self.add_many([Solved(question, sql)], by)[0]

    def add_if_it_runs(
        self, db: Database, question: str, sql: str, by: str, limits: Limits
    ) -> Kept:
        """Keep a person's answer once it has run read-only on its database (a row will do)."""
        run_sql(db, sql, replace(limits, max_rows=1))
        return self.add(question, sql, by)

    def add_many(self, pairs: Iterable[Solved], by: str) -> list[Kept]:
        """Keep several answers in one change; each comes back as kept (new or found)."""
        if by not in SOURCES:
            raise SmolsqlError(f"kept by {by!r}; one of {', '.join(SOURCES)}")
        pairs = list(pairs)
        wanted = []
        for i, pair in enumerate(pairs, 1):
            try:
                wanted.append(self._checked(pair))
            except SmolsqlError as exc:  # one bad answer keeps nothing, and is named
                raise SmolsqlError(
                    f"answer {i} of {len(pairs)}: {exc}" if len(pairs) > 1 else str(exc)
                ) from None
        with self._locked():
            kept = self.list()
            index = {self._key(k.question, k.sql): k for k in kept}
            out = []
            for pair in wanted:
                key = self._key(pair.question, pair.sql)
                if key not in index:
                    index[key] = Kept(_new_id(), pair.question, pair.sql, _now(), by)
                    kept.append(index[key])
                out.append(index[key])
            write_jsonl(self.path, kept[-self.cap :])
        return out

    def remove(self, id: str) -> bool:
        """Forget the answer `id`; False when there is none."""
        with self._locked():
            kept = self.list()
            left = [k for k in kept if k.id != id]
            if len(left) == len(kept):
                return False
            write_jsonl(self.path, left)
        return True

    def _checked(self, pair: Solved) -> Solved:
        question, sql = pair.question.strip(), pair.sql.strip().rstrip(";").strip()
        if not question:
            raise SmolsqlError("a kept answer needs a question")
        if not sql:
            raise SmolsqlError("a kept answer needs its SQL")
        check_sql(sql, self.dialect)  # one read-only statement, as every query that runs
        return Solved(question, sql)

    def _key(self, question: str, sql: str) -> tuple[str, str]:
        words = " ".join(re.findall(r"\w+", question.casefold()))
        return words, normalized_sql(sql, self.dialect) or sql

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.path) + ".lock", timeout=30):
                yield
        except Timeout:
            raise SmolsqlError(f"{self.path} stayed locked by another process for 30 s") from None
        except OSError as exc:
            raise SmolsqlError(f"cannot write {self.path}: {exc.strerror}") from None


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


KEPT_SETTINGS = ("auto", "on", "off")


def use_kept(setting: str, model: str | None) -> tuple[bool, str]:
    """Whether kept answers go in the prompt, and one line saying why.

    `auto` puts them in for a model trained to read them (its `smolsql.json` says so), as
    the default model is. A model trained without copies them: right when a question's own
    query was kept before and mostly wrong otherwise (the default model's card).
    """
    if setting not in KEPT_SETTINGS:
        raise SmolsqlError(f"--kept {setting!r}: one of {', '.join(KEPT_SETTINGS)}")
    if setting != "auto":
        where = "go in" if setting == "on" else "stay out of"
        return setting == "on", f"kept answers {where} the prompt (--kept {setting})"
    from smolsql.models import prompt_notes, resolve_model

    try:
        trained = bool(prompt_notes(resolve_model(model)).get("solved_examples"))
    except SmolsqlError:
        trained = False  # a served model elsewhere (openai): nothing says it reads them
    if trained:
        return True, "kept answers go in the prompt: the model was trained to read them"
    return False, (
        "kept answers stay out of the prompt: this model was not trained to read them "
        "(--kept on puts them in)"
    )
