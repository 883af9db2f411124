"""The SQL guard: a model wrote this SQL, so it is untrusted until these rules pass.

`RULES` is a tuple of small named checks run in order over the sqlglot parse;
the first that objects refuses the query and says which rule and why. The
connection is read-only as well (see `smolsql.db`): this is the first of two
locks, not the only one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from smolsql.errors import SmolsqlError
from smolsql.sql.text import InvalidSQL, parse_sql

# sqlglot logs a warning when it falls back to an opaque Command; the rules refuse those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Functions that reach outside the database: files, extensions, other servers.
OUTSIDE_FUNCTIONS = frozenset(
    {
        "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import",
        "lo_export", "dblink", "dblink_exec", "pg_sleep", "sleep", "benchmark", "load_file",
        "read_csv", "read_csv_auto", "read_parquet", "read_json", "read_json_auto",
        "read_json_objects", "read_ndjson", "read_text", "read_blob", "parquet_scan",
        "csv_scan", "glob", "sniff_csv", "iceberg_scan", "delta_scan", "sqlite_scan",
        "postgres_scan", "mysql_scan", "query_table", "query", "getenv",
        "openrowset", "opendatasource", "xp_cmdshell", "utl_file", "utl_http",
    }
)  # fmt: skip

# Statement kinds that change something or reach outside; none may appear anywhere.
WRITE_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "TruncateTable",
        "Command", "Pragma", "Attach", "Detach", "Copy", "Set", "Use", "Transaction",
        "Commit", "Rollback", "LoadData", "Install", "Grant", "Revoke", "Analyze", "Export",
    )
    if hasattr(exp, name)
)  # fmt: skip


class Refused(SmolsqlError):
    """The guard would not run this SQL."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"refused by rule '{rule}': {reason}")
        self.rule = rule
        self.reason = reason


Check = Callable[[list[exp.Expression]], str | None]


@dataclass(frozen=True)
class Rule:
    name: str
    check: Check
    """Returns why the statements break the rule, or None when they keep it."""


def _one_statement(statements: list[exp.Expression]) -> str | None:
    if len(statements) != 1:
        return f"exactly one statement is allowed, found {len(statements)}"
    return None


def _read_only(statements: list[exp.Expression]) -> str | None:
    root = statements[0]
    if not isinstance(root, exp.Query):
        return f"only SELECT queries run; this is {root.key.upper()}"
    for node in root.walk():
        if isinstance(node, WRITE_NODES):
            return f"{node.key.upper()} inside a query is not allowed"
    return None


def _no_select_into(statements: list[exp.Expression]) -> str | None:
    for select in statements[0].find_all(exp.Select):
        if select.args.get("into"):
            return "SELECT ... INTO writes a table"
    return None


def _no_outside_functions(statements: list[exp.Expression]) -> str | None:
    for func in statements[0].find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in OUTSIDE_FUNCTIONS:
            return f"{name}() reaches outside the database"
    return None


RULES: tuple[Rule, ...] = (
    Rule("one_statement", _one_statement),
    Rule("read_only", _read_only),
    Rule("no_select_into", _no_select_into),
    Rule("no_outside_functions", _no_outside_functions),
)


def check_sql(sql: str, dialect: str = "sqlite", rules: tuple[Rule, ...] = RULES) -> exp.Expression:
    """Raise `Refused` unless `sql` is one read-only query; return its parse."""
    try:
        statements = parse_sql(sql, dialect)
    except InvalidSQL as exc:
        raise Refused("parses", str(exc)) from None
    for rule in rules:
        reason = rule.check(statements)
        if reason:
            raise Refused(rule.name, reason)
    if not statements:  # only when called without the one_statement rule
        raise Refused("one_statement", "there is no statement, only separators or comments")
    return statements[0]
