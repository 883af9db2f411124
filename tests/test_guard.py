"""The adversarial corpus (tests/fixtures/adversarial.yaml) through every door that runs SQL.

Each entry must be refused by the rule it names, stopped by a limit, refused by the read-only
database, or be harmless; and after the whole corpus has gone through the library, the CLI
and the API, the database file is byte for byte what it was.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fakes import ScriptedBackend

from smolsql.cli import main
from smolsql.db import Limits, open_database
from smolsql.errors import SmolsqlError
from smolsql.sql.guard import RULES, Refused, check_sql
from smolsql.sql.run import run_sql

CORPUS = yaml.safe_load((Path(__file__).parent / "fixtures" / "adversarial.yaml").read_text())
MAX_ROWS, TIMEOUT_S = 100, 1.0
CORPUS_PATHS = sorted(
    {m.split("?")[0].removeprefix("file:") for case in CORPUS
     for m in re.findall(r"'((?:file:)?/tmp/[^']+)'", case["sql"])}
)  # fmt: skip


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def category(message: str | None, truncated: bool = False) -> str:
    """What happened, in the corpus's words, from an error message (None: it ran)."""
    if message is None:
        return "limited" if truncated else "ok"
    if "refused by rule '" in message:
        return message.split("refused by rule '", 1)[1].split("'", 1)[0]
    return "limited" if "ran longer than" in message else "error"


def via_library(db_path: Path, sql: str) -> str:
    with open_database(db_path) as db:
        try:
            result = run_sql(db, sql, Limits(MAX_ROWS, TIMEOUT_S))
        except SmolsqlError as exc:
            return category(str(exc))
    return category(None, result.truncated)


def via_cli(db_path: Path, sql: str, capsys) -> str:
    code = main(
        ["run", sql, "--db", str(db_path), "--max-rows", str(MAX_ROWS), "--timeout", str(TIMEOUT_S)]
    )
    out, err = capsys.readouterr()
    if code:
        assert err.startswith("smolsql: error: ") and "Traceback" not in err
        return category(err)
    return category(None, "cut at the row limit" in out)


def via_api(client, sql: str) -> str:
    reply = client.post("/v1/query", json={"database": "shop", "sql": sql, "max_rows": MAX_ROWS})
    if reply.status_code != 200:
        assert reply.status_code in (400, 422)
        return category(reply.json()["detail"])
    return category(None, reply.json()["truncated"])


def test_the_corpus_is_large_and_covers_every_rule() -> None:
    assert len(CORPUS) >= 60
    expected = {case["expect"] for case in CORPUS}
    assert {rule.name for rule in RULES} | {"parses", "limited", "error", "ok"} <= expected
    assert len({case["sql"] for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[str(i) for i in range(len(CORPUS))])
def test_each_statement_is_refused_or_limited(case: dict, sample_db: Path) -> None:
    assert via_library(sample_db, case["sql"]) == case["expect"]


def test_nothing_changes_through_library_cli_and_api(sample_db: Path, capsys) -> None:
    from fastapi.testclient import TestClient

    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service

    for stale in CORPUS_PATHS:  # so that what exists afterwards was made by this run
        shutil.rmtree(stale, ignore_errors=True) if Path(stale).is_dir() else Path(stale).unlink(
            missing_ok=True
        )
    before = checksum(sample_db)
    client = TestClient(
        create_app(
            Service(ScriptedBackend(), {"shop": str(sample_db)}, Limits(timeout_s=TIMEOUT_S))
        )
    )
    for case in CORPUS:
        results = {
            "library": via_library(sample_db, case["sql"]),
            "cli": via_cli(sample_db, case["sql"], capsys),
            "api": via_api(client, case["sql"]),
        }
        assert set(results.values()) == {case["expect"]}, (case["sql"], results)
    assert checksum(sample_db) == before
    leftovers = {p.name for p in sample_db.parent.iterdir()} - {sample_db.name}
    assert not leftovers  # no journal, WAL or attached file appeared beside it
    written = [path for path in CORPUS_PATHS if Path(path).exists()]
    assert not written  # no file the corpus names was made (ATTACH, VACUUM INTO, COPY, ...)


def test_the_cli_in_its_own_process(sample_db: Path) -> None:
    smolsql = str(Path(sys.executable).with_name("smolsql"))
    ok = subprocess.run(
        [smolsql, "run", "SELECT count(*) AS n FROM artist", "--db", str(sample_db)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and ok.stdout.split()[:3] == ["n", "-", "5"]
    bad = subprocess.run(
        [smolsql, "run", "DROP TABLE artist", "--db", str(sample_db)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("smolsql: error: refused by rule")


@pytest.mark.parametrize(
    ("sql", "dialect", "rule"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "duckdb", "no_outside_functions"),
        ("COPY t TO '/tmp/x.parquet'", "duckdb", "read_only"),
        ("SELECT pg_read_file('/etc/passwd')", "postgres", "no_outside_functions"),
        ("SELECT * INTO new_t FROM t", "postgres", "no_select_into"),
        ("SELECT * FROM OPENROWSET('x', 'y', 'z')", "tsql", "no_outside_functions"),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres", "read_only"),
    ],
)
def test_rules_hold_in_other_dialects(sql: str, dialect: str, rule: str) -> None:
    with pytest.raises(Refused) as refused:
        check_sql(sql, dialect)
    assert refused.value.rule == rule
