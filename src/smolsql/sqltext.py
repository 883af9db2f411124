"""Getting one clean SQL statement out of a completion, and printing it with sqlglot."""

from __future__ import annotations

import re

import sqlglot
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from smolsql.prompt import END_OF_TURN, START_OF_TURN

_STOP_MARKERS = (END_OF_TURN, START_OF_TURN, "<|endoftext|>", "</s>")
_FENCE = re.compile(
    r"```(?:sql|sqlite|postgres|postgresql|mysql)?\s*\n?(.*?)(?:```|$)", re.S | re.I
)
_SQL_START = re.compile(
    r"\b(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|EXPLAIN|VALUES)\b", re.I
)


def extract_sql(completion: str, dialect: str = "sqlite") -> str:
    """The first SQL statement in a completion, without fences, chatter or semicolon.

    Returns '' when the completion holds nothing that looks like SQL.
    """
    text = completion
    for marker in _STOP_MARKERS:
        text = text.split(marker, 1)[0]
    fence = _FENCE.search(text)
    if fence:
        text = fence.group(1)
    start = _SQL_START.search(text)
    if not start:
        return ""
    text = _first_statement(text[start.start() :], dialect)
    text = text.split("\n\n", 1)[0].strip()
    return _longest_parsing_prefix(text, dialect)


def _first_statement(text: str, dialect: str) -> str:
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (TokenError, ValueError):
        return text.split(";", 1)[0]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            return text[: token.start]
    return text


def _longest_parsing_prefix(text: str, dialect: str) -> str:
    """Drop trailing lines of prose: keep the most lines that still parse as SQL."""
    lines = text.splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end]).strip()
        if parses(candidate, dialect):
            return candidate
    return text.strip()


def parses(sql: str, dialect: str = "sqlite") -> bool:
    """True when sqlglot parses `sql` as exactly one statement in `dialect`."""
    if not sql.strip():
        return False
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError, ValueError):
        return False
    return len(statements) == 1


def pretty_sql(sql: str, dialect: str = "sqlite", to: str | None = None) -> str:
    """Pretty-print (and optionally transpile to `to`); unparseable SQL comes back unchanged."""
    if not sql.strip():
        return sql
    try:
        return sqlglot.transpile(sql, read=dialect, write=to or dialect, pretty=True)[0]
    except (ParseError, TokenError, ValueError):
        return sql


_NO_SPACE_BEFORE = (TokenType.COMMA, TokenType.R_PAREN)


def tidy_sql(sql: str, dialect: str = "sqlite") -> str:
    """One space where the text had whitespace, none before ',' or ')' or after '('.

    Spider's gold SQL is written `name ,  age` and `age  >  56`: a model trained on
    it spends tokens writing that spacing (7% of Spider's SQL tokens). The tokens
    themselves are kept as written, so string literals and case are untouched; SQL
    that does not tokenize, or has comments, comes back unchanged.
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except (TokenError, ValueError):
        return sql
    pieces: list[str] = []
    for prev, token in zip([None, *tokens], tokens, strict=False):
        if prev is not None:
            gap = sql[prev.end + 1 : token.start]
            if gap.strip():  # a comment (sqlglot keeps those apart from tokens)
                return sql
            after_paren = prev.token_type == TokenType.L_PAREN
            if gap and token.token_type not in _NO_SPACE_BEFORE and not after_paren:
                pieces.append(" ")
        pieces.append(sql[token.start : token.end + 1])
    return "".join(pieces)
