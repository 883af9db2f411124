"""SQL text through sqlglot: the one parser, statements and prefixes that parse, printing.

`parse_sql` is the only place SQL is parsed; everything that needs a parse tree
(the guard, the checks, evaluation, the schema reader) calls it and gets one
error, `InvalidSQL`, for SQL sqlglot cannot read and for a dialect it does not know.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from smolsql.errors import SmolsqlError
from smolsql.sql.dialects import lookup, spelling


class InvalidSQL(SmolsqlError):
    """sqlglot could not read the SQL (or does not know its dialect)."""


def dialect_name(name: str) -> str:
    """sqlglot's name for a dialect (`postgresql` -> `postgres`); InvalidSQL when unknown."""
    known = lookup(name)
    if known:
        return known.name
    key = spelling(name)
    try:
        sqlglot.Dialect.get_or_raise(key)
    except ValueError:
        raise InvalidSQL(
            f"unknown SQL dialect {name!r} (sqlglot names such as sqlite, "
            "postgres, mysql, duckdb, tsql)"
        ) from None
    return key


def quote_identifier(name: str, dialect: str = "sqlite", always: bool = True) -> str:
    """`name` as an identifier in `dialect`, quoted and escaped by sqlglot.

    `always=False` quotes only names that need it (the prompt's schema keeps plain names).
    """
    identifier = exp.to_identifier(name, quoted=True) if always else exp.to_identifier(name)
    return identifier.sql(dialect=dialect_name(dialect))


def distinct_values_sql(table: str, column: str, k: int, dialect: str = "sqlite") -> str:
    """SQL for up to k distinct non-null values of one column, in `dialect` (LIMIT or TOP)."""
    col = exp.column(column, quoted=True)
    source = exp.Table(this=exp.to_identifier(table, quoted=True))
    query = sqlglot.select(col).distinct().from_(source).where(col.is_(exp.null()).not_())
    return query.limit(int(k)).sql(dialect=dialect_name(dialect))


def parse_sql(sql: str, dialect: str = "sqlite") -> list[exp.Expression]:
    """Every statement in `sql`, parsed; InvalidSQL says why when it cannot be."""
    dialect = dialect_name(dialect)
    if not sql.strip():
        raise InvalidSQL("the SQL is empty")
    try:
        return [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise InvalidSQL(f"not valid {dialect} SQL ({detail})") from None


def parse_one(sql: str, dialect: str = "sqlite") -> exp.Expression | None:
    """The single statement in `sql`, or None when it does not parse as exactly one.

    An unknown dialect is still an error (InvalidSQL): it is the caller's mistake, not the SQL's.
    """
    dialect = dialect_name(dialect)
    try:
        statements = parse_sql(sql, dialect)
    except InvalidSQL:
        return None
    return statements[0] if len(statements) == 1 else None


def first_statement(text: str, dialect: str) -> str:
    """Text up to the first semicolon that sqlglot's tokenizer sees (not one in a string)."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (TokenError, ValueError):
        return text.split(";", 1)[0]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            return text[: token.start]
    return text


def longest_parsing_prefix(text: str, dialect: str) -> str:
    """Drop trailing lines of prose: keep the most lines that still parse as SQL."""
    lines = text.splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end]).strip()
        if parses(candidate, dialect):
            return candidate
    return text.strip()


def normalized_sql(sql: str, dialect: str = "sqlite") -> str | None:
    """SQL in one canonical spelling (sqlglot's rendering, case-folded); None if it won't parse.

    Two statements that normalize alike are the same query: exact match, and the
    solved examples that leave out a question's own answer, both compare this.
    """
    tree = parse_one(sql, dialect)
    if tree is None:
        return None
    rendered = tree.sql(dialect=dialect_name(dialect), normalize=True)
    return " ".join(rendered.casefold().split())


def parses(sql: str, dialect: str = "sqlite") -> bool:
    """True when sqlglot parses `sql` as exactly one statement in `dialect`."""
    return parse_one(sql, dialect) is not None


def pretty_sql(sql: str, dialect: str = "sqlite", to: str | None = None) -> str:
    """Pretty-print (and optionally transpile to `to`); unparseable SQL comes back unchanged.

    An unknown `to` is the caller's error (InvalidSQL), not SQL left as it was.
    """
    target = dialect_name(to or dialect)
    tree = parse_one(sql, dialect) if sql.strip() else None
    if tree is None:
        return sql
    try:
        return tree.sql(dialect=target, pretty=True)
    except (InvalidSQL, ValueError, sqlglot.errors.UnsupportedError):
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
