"""Any database SQLAlchemy reaches (PostgreSQL, MySQL, ...), inside read-only transactions."""

from __future__ import annotations

from typing import Any

from smolsql.db.base import Database, timeout_message
from smolsql.errors import SmolsqlError
from smolsql.schema import Column, ForeignKey, Schema, Table
from smolsql.sql.dialects import lookup


class SQLAlchemyDatabase(Database):
    def __init__(self, url: str) -> None:
        import sqlalchemy

        try:
            self.engine = sqlalchemy.create_engine(_with_installed_driver(url))
        except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as exc:
            raise SmolsqlError(f"cannot use database URL: {exc}") from None
        except ImportError as exc:
            raise SmolsqlError(f"the driver for this URL is not installed: {exc.name}") from None
        self.label = self.engine.url.render_as_string(hide_password=True)
        known = lookup(self.engine.dialect.name)  # SQLAlchemy's name: postgresql, mssql, ...
        self.dialect = known.name if known else self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def _connect(self):
        import sqlalchemy

        try:
            return self.engine.connect()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise SmolsqlError(f"cannot connect to {self.label}: {_short(exc)}") from None

    def schema(self, samples: int = 0) -> Schema:
        import sqlalchemy

        tables = []
        with self._connect() as conn:
            try:
                inspector = sqlalchemy.inspect(conn)
                for name in inspector.get_table_names():
                    pk = inspector.get_pk_constraint(name).get("constrained_columns") or []
                    columns = []
                    for info in inspector.get_columns(name):
                        values = self.sample_values(name, info["name"], samples) if samples else ()
                        ctype = _type_name(info["type"], self.engine.dialect)
                        columns.append(
                            Column(info["name"], ctype, len(pk) == 1 and info["name"] in pk, values)
                        )
                    fks = tuple(
                        ForeignKey(
                            tuple(fk["constrained_columns"]),
                            fk["referred_table"],
                            tuple(fk["referred_columns"]),
                        )
                        for fk in inspector.get_foreign_keys(name)
                    )
                    tables.append(Table(name, tuple(columns), fks))
            except sqlalchemy.exc.SQLAlchemyError as exc:
                raise SmolsqlError(f"cannot read {self.label}: {_short(exc)}") from None
        return Schema(tuple(tables), self.dialect)

    def _read(self, sql: str, params: tuple = ()) -> list:
        import sqlalchemy

        with self._connect() as conn:  # from the engine's pool: cheap after the first
            try:
                return list(conn.exec_driver_sql(sql, params or None))
            except sqlalchemy.exc.SQLAlchemyError as exc:
                raise SmolsqlError(f"cannot read {self.label}: {_short(exc)}") from None

    def _execute(self, sql: str, max_rows: int, timeout_s: float):
        import sqlalchemy

        with self._connect() as conn:
            try:
                with conn.begin() as tx:
                    self._enter_read_only(conn, timeout_s)
                    cursor = conn.exec_driver_sql(sql)
                    columns = tuple(cursor.keys()) if cursor.returns_rows else ()
                    rows = [tuple(r) for r in cursor.fetchmany(max_rows + 1)] if columns else []
                    tx.rollback()
                    return columns, rows
            except sqlalchemy.exc.OperationalError as exc:
                if "timeout" in str(exc).lower() or "canceling statement" in str(exc):
                    raise SmolsqlError(timeout_message(timeout_s)) from None
                raise SmolsqlError(f"the database refused the query: {_short(exc)}") from None
            except sqlalchemy.exc.SQLAlchemyError as exc:
                raise SmolsqlError(f"the database refused the query: {_short(exc)}") from None

    def _enter_read_only(self, conn: Any, timeout_s: float) -> None:
        name = self.engine.dialect.name
        ms = max(1, int(timeout_s * 1000))
        if name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
        elif name in ("mysql", "mariadb"):
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {ms}")
        elif name == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = 1")


def _with_installed_driver(url: str) -> Any:
    """`postgresql://` means psycopg2 to SQLAlchemy; take psycopg 3 when only it is installed."""
    import importlib.util

    import sqlalchemy

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        return url  # create_engine says what is wrong with it
    find = importlib.util.find_spec
    if parsed.drivername == "postgresql" and not find("psycopg2") and find("psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _type_name(sa_type: Any, dialect: Any) -> str:
    try:
        return sa_type.compile(dialect=dialect)
    except Exception:  # some reflected types cannot compile; the name is enough
        return type(sa_type).__name__.upper()


def _short(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
