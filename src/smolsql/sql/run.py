"""Running SQL: the one door every query passes, the model's and a person's alike.

The guard first (`smolsql.sql.guard`: one read-only statement), then the database
connection, itself opened read-only, with a row limit and a time limit.
"""

from __future__ import annotations

from smolsql.db import DEFAULT_LIMITS, Database, Limits, Result
from smolsql.sql.guard import check_sql


def run_sql(db: Database, sql: str, limits: Limits = DEFAULT_LIMITS) -> Result:
    """Rows of `sql` on `db`; `Refused` or a `SmolsqlError` from the database says why not."""
    check_sql(sql, db.dialect)
    return db.execute(sql, limits)
