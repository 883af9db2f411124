"""Datasets in, `Example` records out: Spider folders, gretel, and your own files.

Whatever the source, the schema text is rendered the same way as at serving
time, so training, evaluation and serving see the same prompt.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from smolsql.db import Database, open_database
from smolsql.errors import SmolsqlError, read_text
from smolsql.hints import value_hints as find_hints
from smolsql.records import Example, read_jsonl
from smolsql.schema import Schema, parse_ddl, render_schema
from smolsql.sql.text import tidy_sql

GRETEL = "gretelai/synthetic_text_to_sql"


def load_spider(
    path: str | Path,
    samples: int = 0,
    limit: int | None = None,
    value_hints: bool = False,
    databases: str | Path | None = None,
) -> list[Example]:
    """A Spider-format questions file (or its folder: dev.json), databases beside it.

    `databases` names the folder of `<db_id>/<db_id>.sqlite` files when it is not the
    file's own `database/` (CoSQL's questions are on Spider's databases).
    Each database's schema is read from the SQLite file once and shared by its questions.
    The gold SQL is tidied (`tidy_sql`): the same statement without Spider's odd spacing.
    With `value_hints`, each question gets the database values it names (`smolsql.hints`).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "dev.json"
    root = Path(databases) if databases else path.parent / "database"
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SmolsqlError(f"Spider questions file not found: {path}") from None
    except (ValueError, UnicodeDecodeError):
        raise SmolsqlError(f"{path} is not a Spider questions file (JSON list)") from None
    if not isinstance(items, list):
        raise SmolsqlError(f"{path} is not a Spider questions file (JSON list)")
    databases: dict[str, tuple[Database, Schema, str]] = {}
    examples = []
    with ExitStack() as stack:  # each database opened once, for its schema and its hints
        for i, item in enumerate(items[:limit]):
            db_id = item["db_id"]
            db_path = root / db_id / f"{db_id}.sqlite"
            if db_id not in databases:
                db = stack.enter_context(open_database(db_path))
                schema = db.schema(samples)
                databases[db_id] = (db, schema, render_schema(schema).text)
            db, schema, text = databases[db_id]
            hints = find_hints(db, schema, item["question"]) if value_hints else ()
            examples.append(_spider_example(item, text, db_path, f"{path.stem}-{i}", hints))
    return examples


def _spider_example(
    item: dict[str, Any], schema: str, db_path: Path, id: str, hints: tuple[str, ...]
) -> Example:
    return Example(
        question=item["question"],
        schema=schema,
        sql=tidy_sql(item["query"]),
        db_path=str(db_path),
        dialect="sqlite",
        id=id,
        meta={"db_id": item["db_id"]},
        hints=hints,
    )


@dataclass(frozen=True)
class Columns:
    """Which columns of a user's file hold what (gretel's names by default)."""

    question: str = "sql_prompt"
    sql: str = "sql"
    context: str = "sql_context"
    """DDL (CREATE and INSERT statements): rendered for the prompt, run for evaluation."""
    db_path: str = "db_path"


GRETEL_META = ("id", "domain", "sql_complexity", "sql_task_type", "domain_description")


def rows_to_examples(
    rows: Iterable[dict[str, Any]],
    columns: Columns = Columns(),
    dialect: str = "sqlite",
    name: str = "data",
) -> list[Example]:
    """Table rows (gretel's or a user's) as Examples; the context DDL becomes the schema."""
    examples = []
    for i, row in enumerate(rows):
        try:
            question, sql = row[columns.question], row.get(columns.sql)
        except KeyError:
            raise SmolsqlError(
                f"{name} row {i}: no column {columns.question!r}; columns are {sorted(row)}"
            ) from None
        context = row.get(columns.context) or ""
        schema = ""
        if context:
            try:
                schema = render_schema(parse_ddl(context, dialect)).text
            except SmolsqlError:
                schema = context.strip()  # not DDL sqlglot reads: show it as it is
        meta = {k: row[k] for k in GRETEL_META if k in row and row[k] is not None}
        examples.append(
            Example(
                question=str(question),
                schema=schema,
                sql=sql,
                db_path=row.get(columns.db_path),
                dialect=dialect,
                id=str(row.get("id", f"{name}-{i}")),
                meta=meta,
                setup_sql=context or None,
            )
        )
    return examples


def load_table_file(path: str | Path, columns: Columns = Columns()) -> list[Example]:
    """A user's JSONL, Parquet or CSV file with the given column names."""
    path = Path(path)
    if not path.exists():
        raise SmolsqlError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        rows = []
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        raise SmolsqlError(f"{path}:{lineno}: not JSON") from None
    elif suffix in (".parquet", ".csv"):
        import pyarrow.csv
        import pyarrow.parquet

        read = pyarrow.parquet.read_table if suffix == ".parquet" else pyarrow.csv.read_csv
        rows = read(path).to_pylist()
    else:
        raise SmolsqlError(f"{path}: expected .jsonl, .parquet or .csv")
    return rows_to_examples(rows, columns, name=path.name)


def load_gretel(split: str = "test", limit: int | None = None) -> list[Example]:
    """gretel's synthetic_text_to_sql from the hub (needs network, and `datasets`)."""
    try:
        from datasets import load_dataset
    except ImportError:
        raise SmolsqlError("gretel needs `datasets`: pip install smolsql[train]") from None
    try:
        data = load_dataset(GRETEL, split=split if limit is None else f"{split}[:{limit}]")
    except Exception as exc:  # the hub's errors are many; all mean "not reachable/not found"
        raise SmolsqlError(f"cannot load {GRETEL} ({split}) from the hub: {exc}") from None
    return rows_to_examples(data, name=f"gretel-{split}")


def load_examples(
    source: str, limit: int | None = None, samples: int = 0, value_hints: bool = False
) -> list[Example]:
    """Any dataset by one string: `gretel[:split]`, a Spider file or folder, or a data file.

    A `.jsonl` file of `Example` records (as `smolsql` writes them) is read as such.
    `value_hints` applies to Spider data (the others carry no database file to search).
    """
    if source == "gretel" or source.startswith("gretel:"):
        return load_gretel(source.partition(":")[2] or "test", limit)
    path = Path(source)
    if path.is_dir() or (path.suffix == ".json" and (path.parent / "database").is_dir()):
        return load_spider(path, samples, limit, value_hints)
    if path.suffix == ".jsonl" and path.exists() and _is_example_file(path):
        return list(read_jsonl(path, Example))[:limit]
    return load_table_file(path)[:limit]


def load_sources(
    sources: str | Sequence[str | Mapping[str, Any]],
    limit: int | None = None,
    value_hints: bool = False,
    exclude_databases: Collection[str] = (),
) -> list[Example]:
    """Examples from one source or several, in order, each distinct pair once.

    An entry is what `load_examples` takes, or a mapping `{path, databases}` for a
    Spider-format file whose databases are elsewhere. Several sources are concatenated
    (the Trainer shuffles them together): a question asked in the same words with the
    same SQL on the same database in two sources (Spider-Syn leaves a third of Spider's
    questions as they were) is kept once. Questions on `exclude_databases` are left out.
    `limit` keeps the first N of what is left, each source read no further than its first N.
    """
    entries = [sources] if isinstance(sources, str) else list(sources)
    seen: set[tuple[str, str, str]] = set()
    out: list[Example] = []
    for entry in entries:
        if isinstance(entry, str):  # no source gives more than `limit`: read only those
            examples = load_examples(entry, limit, value_hints=value_hints)
        elif isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
            unknown = sorted(set(entry) - {"path", "databases"})
            if unknown:
                raise SmolsqlError(f"data entry {entry['path']}: unknown key(s) {unknown}")
            examples = load_spider(
                entry["path"],
                limit=limit,
                value_hints=value_hints,
                databases=entry.get("databases"),
            )
        else:
            raise SmolsqlError(f"a data entry is a path or {{path, databases}}, not {entry!r}")
        for example in select_databases(examples, exclude=exclude_databases):
            key = (database_name(example), example.question, example.sql or "")
            if key not in seen:
                seen.add(key)
                out.append(example)
    return out[:limit]


def database_name(example: Example) -> str:
    """The example's database by name: Spider's db_id, else its file's name without suffix."""
    if "db_id" in example.meta:
        return str(example.meta["db_id"])
    return Path(example.db_path).stem if example.db_path else ""


def read_database_names(path: str | Path) -> frozenset[str]:
    """Database names from a text file, one a line; `#` starts a comment."""
    lines = read_text(path, "database list").splitlines()
    names = frozenset(line.split("#")[0].strip() for line in lines) - {""}
    if not names:
        raise SmolsqlError(f"{path} names no database")
    return names


def select_databases(
    examples: Iterable[Example],
    only: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[Example]:
    """The examples on the databases `only` names (all when None), less those on `exclude`."""
    return [
        e
        for e in examples
        if (only is None or database_name(e) in only) and database_name(e) not in exclude
    ]


def _is_example_file(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        return "question" in json.loads(first)
    except ValueError:
        return False


def with_databases_in(examples: list[Example], folder: Path) -> list[Example]:
    """The examples with their database files copied into `folder`, each under its own name.

    For training or evaluating where `../shared` is not (a GPU machine): the data file
    and this folder travel together, and the copied paths are written as `folder` is
    given (relative paths resolve from wherever the command runs).
    """
    import shutil

    copied: dict[str, str] = {}
    out = []
    for example in examples:
        source = example.db_path
        if source and "://" not in source and source not in copied:
            target = folder / Path(source).parent.name / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied[source] = str(target)
        out.append(replace(example, db_path=copied.get(source or "", source)))
    return out
