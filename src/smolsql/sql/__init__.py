"""SQL under a schema, without a model: parse, check, repair, guard, run, compare results.

Depends on sqlglot, `smolsql.schema` and `smolsql.db` only: never on a backend or the prompt.
"""
