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
from smolsql.choose import (
    DEFAULT_CANDIDATES,
    MAX_CANDIDATES,
    ChoiceSettings,
    alternatives,
    describe,
)
from smolsql.data.sample import QUESTIONS, open_target
from smolsql.db import DEFAULT_LIMITS, Database, Limits, Result, open_database
from smolsql.errors import SmolsqlError
from smolsql.kept import KeptAnswers, use_kept
from smolsql.link import AUTO_MIN_TABLES, DEFAULT_LINKING, LINKING, LinkSettings, link_settings
from smolsql.records import Prediction, Solved
from smolsql.schema import render_schema
from smolsql.serve.chart import chart_for
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


def choose_database() -> tuple[Database, str] | None:
    """The database, and what names it for its kept answers (the same data, the same name)."""
    source = st.sidebar.radio("Database", SOURCES, key="source")
    if source == SOURCES[0]:
        return open_target("sample"), "sample"
    if source == SOURCES[1]:
        upload = st.sidebar.file_uploader("SQLite database file", key="sqlite_file")
        if not upload:
            return None
        path = upload_path(upload)  # named by its content
        return open_database(path), path
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

        files = [(u.name, u.getvalue()) for u in uploads]
        digest = hashlib.sha256(b"".join(n.encode() + d for n, d in sorted(files))).hexdigest()
        return from_files(files), f"files-{digest[:16]}"
    url = st.sidebar.text_input(
        "SQLAlchemy URL", placeholder="postgresql://user@host/db", key="url"
    )
    return (open_database(url), url) if url.strip() else None


def choose_solved() -> tuple[Solved, ...]:
    """Questions answered before on this database, from an uploaded JSON/JSONL file."""
    upload = st.sidebar.file_uploader(
        "Solved examples (optional)",
        type=["json", "jsonl"],
        key="solved_file",
        help='A JSON list or JSON Lines of {"question": ..., "sql": ...} answered before on '
        "this database: the most similar go in the prompt. For a model trained with them, "
        "as the default model is; a model trained without copies them, which helps on "
        "questions asked before and hurts on new ones.",
    )
    if upload is None:
        return ()
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        raise SmolsqlError(f"{upload.name} is not UTF-8 text") from None
    return solved_from_text(text, upload.name)


def show_result(result: Result, key: str = "result") -> None:
    columns = _unique(result.columns)
    frame = pd.DataFrame(result.rows, columns=columns)
    st.dataframe(frame, hide_index=True)
    note = " (cut at the row limit)" if result.truncated else ""
    rows = "1 row" if len(frame) == 1 else f"{len(frame)} rows"
    st.caption(f"{rows} in {result.elapsed_ms:.0f} ms{note}")
    chart = chart_for(frame)
    if chart is not None:
        data = frame.set_index(chart.x)[list(chart.y)]
        if chart.kind == "line":
            data.index = pd.to_datetime(data.index)
            st.line_chart(data)
        else:
            st.bar_chart(data)
    csv = frame.to_csv(index=False).encode()
    st.download_button("Download CSV", csv, "result.csv", "text/csv", key=f"download-{key}")


def kept_sidebar(store: KeptAnswers, why: str) -> None:
    """The answers kept for this database, each removable, and whether prompts use them."""
    kept = store.list()
    st.sidebar.subheader(f"Kept answers ({len(kept)})")
    st.sidebar.checkbox("Use them in the prompt", key="use_kept", help=why)  # its state: main
    for k in reversed(kept):
        st.sidebar.markdown(f"**{k.question}**  \n`{k.sql}`")
        if st.sidebar.button("Remove", key=f"forget-{k.id}"):
            store.remove(k.id)
            st.rerun()


def keep_button(store: KeptAnswers, question: str, sql: str, label: str, key: str) -> None:
    if st.button(label, key=key):
        store.add(question, sql, "app")
        used = st.session_state.get("use_kept")
        st.success(
            "Kept for this database: the next questions use it."
            if used
            else "Kept for this database. Tick 'Use them in the prompt' for the next questions "
            "to use it."
        )


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
    setting = env("SMOLSQL_APP_LINK") or DEFAULT_LINKING
    if setting not in LINKING:
        st.error(f"SMOLSQL_APP_LINK is one of {', '.join(LINKING)}, not {setting!r}")
        return
    linking = st.sidebar.selectbox(
        "Schema linking",
        LINKING,
        index=LINKING.index(setting),
        key="link",
        help="on: the prompt shows the tables the question is about and those joining them; "
        "candidates are also written from the whole schema. auto: on for schemas of "
        f"{AUTO_MIN_TABLES} tables or more. off: the whole schema.",
    )
    try:
        chosen = choose_database()
        solved = choose_solved()
    except SmolsqlError as exc:
        st.error(str(exc))
        return
    if chosen is None:
        st.info("Choose a database in the sidebar.")
        return
    db, target = chosen
    store = KeptAnswers.of(target, dialect=db.dialect)
    reads, why = use_kept(env("SMOLSQL_APP_KEPT") or "auto", env("SMOLSQL_APP_MODEL"))
    if state.get("target") != target:  # another database: its own answers, and no answer yet
        state.target, state.use_kept = target, reads
        for name in ("sql", "last", "result", "run_error", "ran_sql", "alternatives"):
            state.pop(name, None)
    state.setdefault("use_kept", reads)  # a widget's state goes when a run does not draw it
    try:
        with db:
            limits, choice = Limits(max_rows=int(max_rows)), ChoiceSettings(int(candidates))
            if not solved and state.use_kept:
                solved = store.solved()
            link = link_settings(linking)
            page(db, backend, limits, choice, store, solved, link)
            kept_sidebar(store, why)
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
    store: KeptAnswers,
    solved: tuple[Solved, ...] = (),
    link: LinkSettings | None = None,
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
            backend,
            question,
            schema,
            db,
            run=True,
            limits=limits,
            choice=choice,
            solved=solved,
            link=link,
        )
        ms = (time.perf_counter() - start) * 1000
        state.sql = answer.sql
        state.result, state.run_error = answer.result, answer.run_error
        state.ran_sql = answer.sql if answer.result is not None else None
        state.alternatives = run_alternatives(db, answer.prediction, limits)
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
            state.ran_sql = sql
        except SmolsqlError as exc:
            state.result, state.run_error, state.ran_sql = None, str(exc), None
    if state.get("run_error"):
        st.error(state.run_error)
    elif state.get("result") is not None:
        show_result(state.result)
        if state.get("ran_sql") == sql:  # what is kept is what ran, edited or not
            keep_button(store, last["question"], sql, "This is right: keep it", "keep")
    show_alternatives(store, last.get("question", ""))


def run_alternatives(db: Database, prediction: Prediction, limits: Limits) -> list[tuple]:
    """When the candidates disagree: each answer but the first (shown above), with its votes
    and its rows (or why it has none), run once with the page's row limit, not on every
    redraw."""
    out = []
    for i in alternatives(prediction)[1:]:
        candidate = prediction.candidates[i]
        try:
            rows: Result | str = run_sql(db, candidate.sql, limits)
        except SmolsqlError as exc:
            rows = str(exc)
        out.append((candidate.sql, candidate.votes, rows))
    return out


def show_alternatives(store: KeptAnswers, question: str) -> None:
    """The other answers when the candidates disagree, each with its rows, to keep."""
    others = st.session_state.get("alternatives", [])
    if not others:
        return
    st.subheader("The candidates disagree")
    st.caption("No answer got most of the candidates' votes. The others, with their rows:")
    for i, (sql, votes, rows) in enumerate(others):
        with st.container(border=True):
            st.code(sql, language="sql")
            st.caption(f"{votes} candidate{'s' if votes != 1 else ''} gave this answer")
            if isinstance(rows, str):
                st.error(rows)
                continue
            show_result(rows, key=f"alternative-{i}")
            keep_button(store, question, sql, "This one is right: keep it", f"keep-{i}")


main()
