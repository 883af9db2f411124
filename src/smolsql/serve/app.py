"""The web app (`smolsql app`): pick a database, ask, check and edit the SQL, run it, see rows.

A Streamlit script: it runs top to bottom on every click. All the work is done by
the library (`ask`, `run_sql`, `find_problems`, `open_database`), as in the CLI
and the API; this file only lays it out. SMOLSQL_APP_BACKEND and SMOLSQL_APP_MODEL
choose the model (`smolsql app --backend/--model` sets them).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from smolsql.ask import ask
from smolsql.backends import GenerationSettings, load_backend
from smolsql.choose import DEFAULT_CANDIDATES, MAX_CANDIDATES, ChoiceSettings, describe
from smolsql.data.sample import QUESTIONS, open_target
from smolsql.db import DEFAULT_LIMITS, Database, Limits, Result, open_database
from smolsql.errors import SmolsqlError
from smolsql.records import Solved
from smolsql.schema import render_schema
from smolsql.serve.service import PERSON, Serialized
from smolsql.settings import env
from smolsql.solved import solved_from_text
from smolsql.sql.checks import find_problems
from smolsql.sql.run import run_sql

SOURCES = ("Sample: a record shop", "SQLite file", "CSV or Parquet files", "SQLAlchemy URL")


@st.cache_resource(show_spinner="Loading the model…")
def get_backend(model: str | None, kind: str) -> Serialized:
    """One model for every session of this server; `Serialized` queues their questions."""
    return Serialized(load_backend(model, kind, GenerationSettings()))


def upload_path(upload) -> str:
    """An uploaded file saved once under a name from its content (never the user's own path)."""
    data = upload.getvalue()
    folder = Path(tempfile.gettempdir()) / "smolsql-uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.db"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def choose_database() -> Database | None:
    source = st.sidebar.radio("Database", SOURCES, key="source")
    if source == SOURCES[0]:
        return open_target("sample")
    if source == SOURCES[1]:
        upload = st.sidebar.file_uploader("SQLite database file", key="sqlite_file")
        return open_database(upload_path(upload)) if upload else None
    if source == SOURCES[2]:
        uploads = st.sidebar.file_uploader(
            "CSV or Parquet files, one table each",
            type=["csv", "tsv", "parquet"],
            accept_multiple_files=True,
            key="table_files",
        )
        if not uploads:
            return None
        from smolsql.db.duckdb import from_files

        return from_files([(u.name, u.getvalue()) for u in uploads])
    url = st.sidebar.text_input(
        "SQLAlchemy URL", placeholder="postgresql://user@host/db", key="url"
    )
    return open_database(url) if url.strip() else None


def choose_solved() -> tuple[Solved, ...]:
    """Questions answered before on this database, from an uploaded JSON/JSONL file."""
    upload = st.sidebar.file_uploader(
        "Solved examples (optional)",
        type=["json", "jsonl"],
        key="solved_file",
        help='A JSON list or JSON Lines of {"question": ..., "sql": ...} answered before on '
        "this database: the most similar go in the prompt. For a model trained with them; "
        "the default model answers worse with them.",
    )
    if upload is None:
        return ()
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        raise SmolsqlError(f"{upload.name} is not UTF-8 text") from None
    return solved_from_text(text, upload.name)


def show_result(result: Result) -> None:
    columns = _unique(result.columns)
    frame = pd.DataFrame(result.rows, columns=columns)
    st.dataframe(frame, hide_index=True)
    note = " (cut at the row limit)" if result.truncated else ""
    rows = "1 row" if len(frame) == 1 else f"{len(frame)} rows"
    st.caption(f"{rows} in {result.elapsed_ms:.0f} ms{note}")
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    labels = [c for c in columns if c not in numeric]
    if numeric and 1 < len(frame) <= 500:
        chart = frame.set_index(labels[0])[numeric] if labels else frame[numeric]
        st.bar_chart(chart)
    csv = frame.to_csv(index=False).encode()
    st.download_button("Download CSV", csv, "result.csv", "text/csv", key="download")


def _unique(names: tuple[str, ...]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def main() -> None:
    st.set_page_config(page_title="smolsql", layout="wide")
    state = st.session_state
    state.setdefault("history", [])
    st.title("smolsql")
    backend = get_backend(env("SMOLSQL_APP_MODEL"), env("SMOLSQL_APP_BACKEND") or "auto")
    st.caption(f"Model: {backend.name}")
    max_rows = st.sidebar.number_input("Row limit", 1, 10_000, min(DEFAULT_LIMITS.max_rows, 200))
    default = int(env("SMOLSQL_APP_CANDIDATES") or DEFAULT_CANDIDATES)
    candidates = st.sidebar.number_input(
        "Candidates",
        1,
        MAX_CANDIDATES,
        default,
        key="candidates",
        help="When the first answer does not run and return rows, the model writes more, "
        "each is run read-only, and the best is shown. 1: the first answer only.",
    )
    try:
        db = choose_database()
        solved = choose_solved()
    except SmolsqlError as exc:
        st.error(str(exc))
        return
    if db is None:
        st.info("Choose a database in the sidebar.")
        return
    try:
        with db:
            limits, choice = Limits(max_rows=int(max_rows)), ChoiceSettings(int(candidates))
            page(db, backend, limits, choice, solved)
    except SmolsqlError as exc:
        st.error(str(exc))
    if state.history:
        st.sidebar.subheader("History")
        for item in reversed(state.history[-20:]):
            st.sidebar.markdown(f"**{item['question']}**  \n`{item['sql']}`  \n{item['ms']:.0f} ms")


def page(
    db: Database,
    backend: Serialized,
    limits: Limits,
    choice: ChoiceSettings,
    solved: tuple[Solved, ...] = (),
) -> None:
    state = st.session_state
    schema = db.schema()
    with st.expander(f"Schema: {len(schema.tables)} tables", expanded=False):
        st.code(render_schema(schema, max_tokens=None).text, language="sql")
    if st.session_state.get("source") in (None, SOURCES[0]):
        st.write("Try:")
        cols = st.columns(len(QUESTIONS))
        for i, (col, example) in enumerate(zip(cols, QUESTIONS, strict=True)):
            if col.button(example, key=f"example-{i}"):
                state.question = example
    question = st.text_input("Question", key="question", placeholder="How many ...?")
    if st.button("Ask", type="primary", key="ask") and question.strip():
        start = time.perf_counter()
        answer = ask(
            backend, question, schema, db, run=True, limits=limits, choice=choice, solved=solved
        )
        ms = (time.perf_counter() - start) * 1000
        state.sql = answer.sql
        state.result, state.run_error = answer.result, answer.run_error
        state.last = {
            "question": question,
            "sql": answer.sql,
            "ms": ms,
            "notes": answer.notes,
            "how": describe(answer.prediction),
        }
        state.history.append(state.last)
    if "sql" not in state:
        return
    last = state.get("last", {})
    for note in last.get("notes", ()):
        st.info(note)
    sql = st.text_area("SQL (edit it, then run it again)", key="sql", height=140)
    problems = find_problems(sql, schema)
    if problems:
        for problem in problems:
            st.warning(problem)
    else:
        st.success("Parses, and every table and column it names exists.")
    if sql == last.get("sql"):
        st.caption(f"{backend.name} · {last['how']} · {last['ms']:.0f} ms")
    else:
        st.caption(PERSON)
    if st.button("Run read-only", key="run"):
        try:
            state.result, state.run_error = run_sql(db, sql, limits), None
        except SmolsqlError as exc:
            state.result, state.run_error = None, str(exc)
    if state.get("run_error"):
        st.error(state.run_error)
    elif state.get("result") is not None:
        show_result(state.result)


main()
