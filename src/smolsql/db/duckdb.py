"""DuckDB files (read-only, external access off) and in-memory DuckDB over uploaded tables."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smolsql.db.base import Database, timeout_message
from smolsql.errors import SmolsqlError
from smolsql.schema import Column, ForeignKey, Schema, Table
from smolsql.sql.text import quote_identifier


class DuckDBDatabase(Database):
    dialect = "duckdb"

    def __init__(self, path: str | Path | None = None, conn: Any = None) -> None:
        """Open `path` read-only, or wrap `conn`, an in-memory connection the caller filled."""
        import duckdb

        self.label = str(path) if path else ":memory:"
        if conn is not None:
            self.conn = conn
            self.conn.execute("SET enable_external_access = false")
            return
        try:
            self.conn = duckdb.connect(
                str(path), read_only=True, config={"enable_external_access": False}
            )
        except duckdb.Error as exc:
            raise SmolsqlError(f"cannot open {path} as DuckDB: {exc}") from None

    def close(self) -> None:
        self.conn.close()

    def _read(self, sql: str, params: tuple = ()) -> list:
        import duckdb

        try:
            return self.conn.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise SmolsqlError(f"cannot read {self.label}: {exc}") from None

    def schema(self, samples: int = 0) -> Schema:
        names = [
            r[0]
            for r in self._read(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            )
        ]
        keys: dict[str, set[str]] = {}
        fks: dict[str, list[ForeignKey]] = {}
        for table, kind, cols, ref_table, ref_cols in self._read(
            "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
            "referenced_column_names FROM duckdb_constraints() WHERE schema_name = 'main'"
        ):
            if kind == "PRIMARY KEY" and len(cols) == 1:
                keys.setdefault(table, set()).update(cols)
            elif kind == "FOREIGN KEY":
                fks.setdefault(table, []).append(
                    ForeignKey(tuple(cols), ref_table, tuple(ref_cols or ()))
                )
        tables = []
        for name in names:
            columns = []
            for col, ctype in self._read(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                (name,),
            ):
                values = self.sample_values(name, col, samples) if samples else ()
                columns.append(Column(col, ctype, col in keys.get(name, ()), values))
            tables.append(Table(name, tuple(columns), tuple(fks.get(name, ()))))
        return Schema(tuple(tables), self.dialect)

    def _execute(self, sql: str, max_rows: int, timeout_s: float):
        import duckdb

        timer = threading.Timer(timeout_s, self.conn.interrupt)
        timer.start()
        try:
            cursor = self.conn.execute(sql)
            rows = cursor.fetchmany(max_rows + 1)
            columns = tuple(d[0] for d in cursor.description or ())
            return columns, rows
        except duckdb.InterruptException:
            raise SmolsqlError(timeout_message(timeout_s)) from None
        except duckdb.Error as exc:
            raise SmolsqlError(f"the database refused the query: {exc}") from None
        finally:
            timer.cancel()


def from_files(files: Sequence[tuple[str, bytes]]) -> DuckDBDatabase:
    """An in-memory DuckDB with one table per uploaded CSV or Parquet file (name, content).

    The files are read before external access is switched off; nothing the user
    owns is ever opened for writing.
    """
    import duckdb

    if not files:
        raise SmolsqlError("no files to load")
    conn = duckdb.connect(":memory:")
    taken: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="smolsql-upload-") as folder:
        for name, data in files:
            suffix = Path(name).suffix.lower()
            reader = {".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".parquet": "read_parquet"}
            if suffix not in reader:
                conn.close()
                raise SmolsqlError(f"{name}: only .csv, .tsv and .parquet files can be loaded")
            table = _table_name(Path(name).stem, taken)
            path = Path(folder) / f"upload{len(taken)}{suffix}"
            path.write_bytes(data)
            try:
                target = quote_identifier(table, "duckdb")
                load = f"CREATE TABLE {target} AS SELECT * FROM {reader[suffix]}(?)"
                conn.execute(load, [str(path)])
            except duckdb.Error as exc:
                conn.close()
                raise SmolsqlError(f"cannot load {name}: {str(exc).splitlines()[0]}") from None
    return DuckDBDatabase(conn=conn)


def _table_name(stem: str, taken: set[str]) -> str:
    """A plain identifier from a file name, unique among `taken` (which it joins)."""
    base = re.sub(r"\W+", "_", stem).strip("_").lower() or "data"
    if base[0].isdigit():
        base = f"t_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name
