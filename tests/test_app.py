"""The web app's flows through Streamlit's AppTest, with the scripted backend."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the serve extra is not installed")
from fakes import model_folder
from streamlit.testing.v1 import AppTest

import smolsql.serve

APP = str(Path(smolsql.serve.__file__).with_name("app.py"))


@pytest.fixture
def app(monkeypatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("SMOLSQL_APP_BACKEND", "fakes:scripted")
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    return AppTest.from_file(APP, default_timeout=60).run()


def ask(app: AppTest, question: str) -> AppTest:
    app.text_input(key="question").input(question)
    return app.button(key="ask").click().run()


def test_ask_on_the_sample_shows_sql_checks_rows_and_history(app: AppTest) -> None:
    assert not app.exception and "Model: scripted" in [c.value for c in app.caption]
    ask(app, "How many artists are there?")
    assert app.text_area(key="sql").value.split() == ["SELECT", "COUNT(*)", "FROM", "artist"]
    assert app.success[0].value.startswith("Parses")
    assert app.dataframe[0].value.iloc[0, 0] == 5
    assert any(b.label == "Download CSV" for b in app.get("download_button"))
    assert any("How many artists are there?" in m.value for m in app.sidebar.markdown)


def test_the_answer_says_how_it_was_chosen(app: AppTest) -> None:
    ask(app, "a second try please")
    assert app.text_area(key="sql").value.split() == ["SELECT", "name", "FROM", "artist"]
    assert any("tried 8, 7 ran, chose #2" in c.value for c in app.caption)
    app.number_input(key="candidates").set_value(1).run()
    ask(app, "a second try please")
    assert app.text_area(key="sql").value.split()[1] == "zzzz"
    assert any(" · greedy · " in c.value for c in app.caption)


def test_example_question_buttons_fill_the_question(app: AppTest) -> None:
    app.button(key="example-0").click().run()
    assert app.text_input(key="question").value == "How many artists are there?"


def test_edited_sql_is_checked_and_run_read_only(app: AppTest) -> None:
    ask(app, "How many artists are there?")
    app.text_area(key="sql").input("SELECT name, formed_year FROM artist ORDER BY name").run()
    app.button(key="run").click().run()
    frame = app.dataframe[0].value
    assert list(frame.columns) == ["name", "formed_year"] and len(frame) == 5
    assert "(written by a person)" in [c.value for c in app.caption]
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")  # numeric: a chart
    app.text_area(key="sql").input("SELECT nope FROM artist").run()
    assert "unknown column nope" in [w.value for w in app.warning]
    app.text_area(key="sql").input("DELETE FROM artist").run()
    app.button(key="run").click().run()
    assert "refused by rule 'read_only'" in app.error[0].value


def test_a_model_answer_with_unknown_tables_is_flagged(app: AppTest) -> None:
    ask(app, "ghost stories")
    assert "unknown table ghosts" in [w.value for w in app.warning]


class Upload(io.BytesIO):
    """What Streamlit's file_uploader returns: the bytes, and the file's name."""

    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name = name


def upload(monkeypatch, key: str, files: object) -> None:
    """The sidebar's uploader with `key` returns `files`; every other one, nothing."""
    import streamlit as st

    monkeypatch.setattr(
        st.sidebar, "file_uploader", lambda *a, **k: files if k["key"] == key else None
    )


def test_csv_upload_becomes_tables(app: AppTest, monkeypatch) -> None:
    upload(monkeypatch, "table_files", [Upload("sales.csv", b"region,amount\nnorth,3\nsouth,5\n")])
    app.sidebar.radio(key="source").set_value("CSV or Parquet files").run()
    assert not app.error, [e.value for e in app.error]
    assert "CREATE TABLE sales" in app.code[0].value


def test_solved_examples_go_in_the_prompt_and_a_bad_file_is_a_message(
    app: AppTest, monkeypatch
) -> None:
    saved = b'{"question": "How many albums are there?", "sql": "SELECT COUNT(*) FROM album"}\n'
    upload(monkeypatch, "solved_file", Upload("saved.jsonl", saved))
    ask(app.run(), "How many artists are there?")
    assert not app.error, [e.value for e in app.error]
    assert any("1 of 1 solved examples in the prompt" in i.value for i in app.info)
    upload(monkeypatch, "solved_file", Upload("saved.jsonl", b"not json"))
    app.run()
    assert not app.exception and "saved.jsonl: not JSON or JSON Lines" in app.error[0].value


def test_a_bad_url_is_a_message_not_a_traceback(app: AppTest) -> None:
    app.sidebar.radio(key="source").set_value("SQLAlchemy URL").run()
    app.sidebar.text_input(key="url").input("nosuchdriver://x/y").run()
    assert not app.exception and app.error


def kept_count(app: AppTest) -> int:
    heading = next(h.value for h in app.sidebar.subheader if h.value.startswith("Kept answers"))
    return int(heading.split("(")[1].rstrip(")"))


def test_keep_an_answer_use_it_next_and_remove_it(app: AppTest) -> None:
    assert kept_count(app) == 0 and app.checkbox(key="use_kept").value is True  # default model
    ask(app, "How many artists are there?")
    app.button(key="keep").click().run()
    assert kept_count(app) == 1 and "the next questions use it" in app.success[-1].value
    ask(app, "How many artists are there now?")
    assert any("1 of 1 solved examples in the prompt" in i.value for i in app.info)
    app.checkbox(key="use_kept").uncheck().run()
    ask(app, "How many artists are there now?")
    assert not any("solved examples in the prompt" in i.value for i in app.info)
    app.checkbox(key="use_kept").check().run()
    forget = next(b for b in app.sidebar.button if b.key.startswith("forget-"))
    forget.click().run()
    assert kept_count(app) == 0
    ask(app, "How many artists are there now?")
    assert not any("solved examples in the prompt" in i.value for i in app.info)


def test_a_model_not_trained_on_kept_answers_uses_them_only_when_ticked(
    app: AppTest, monkeypatch, tmp_path: Path
) -> None:
    plain = model_folder(tmp_path / "plain-model")  # trained on the plain prompt
    monkeypatch.setenv("SMOLSQL_APP_MODEL", str(plain))
    app = AppTest.from_file(APP, default_timeout=60).run()  # a new session, with that model
    assert app.checkbox(key="use_kept").value is False
    ask(app, "How many artists are there?")
    app.button(key="keep").click().run()
    assert "Tick 'Use them" in app.success[-1].value
    ask(app, "How many artists are there now?")
    assert not any("solved examples in the prompt" in i.value for i in app.info)
    app.checkbox(key="use_kept").check().run()
    ask(app, "How many artists are there now?")
    assert any("1 of 1 solved examples in the prompt" in i.value for i in app.info)


def test_edited_sql_is_kept_only_once_it_has_run(app: AppTest, tmp_path: Path) -> None:
    from smolsql.kept import KeptAnswers

    ask(app, "How many artists are there?")
    app.text_area(key="sql").input("SELECT count(*) FROM artist WHERE formed_year > 1960").run()
    assert not [b for b in app.button if b.key == "keep"]  # edited, not run: nothing to keep
    app.button(key="run").click().run()
    app.button(key="keep").click().run()
    (kept,) = KeptAnswers.of("sample").list()
    assert kept.sql.endswith("formed_year > 1960") and kept.by == "app"
    assert kept.question == "How many artists are there?"


def test_disagreeing_candidates_are_shown_with_their_rows_and_can_be_kept(app: AppTest) -> None:
    from smolsql.kept import KeptAnswers

    app.number_input(key="candidates").set_value(3).run()
    ask(app, "Names of albums or customers?")
    assert "The candidates disagree" in [h.value for h in app.subheader]
    assert len(app.dataframe) == 2  # the answer's rows, and the other answer's
    app.button(key="keep-0").click().run()
    assert [" ".join(k.sql.split()) for k in KeptAnswers.of("sample").list()] == [
        "SELECT name FROM customer"
    ]
    ask(app, "How many artists are there?")  # one vote, no disagreement: nothing more shown
    assert "The candidates disagree" not in [h.value for h in app.subheader]


def test_schema_linking_follows_the_setting_and_the_sidebar(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMOLSQL_APP_BACKEND", "fakes:scripted")
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SMOLSQL_APP_LINK", "on")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert app.selectbox(key="link").value == "on"
    ask(app, "How many artists are there?")
    assert any(i.value.startswith("schema linking: the prompt shows 1 of") for i in app.info)
    assert app.dataframe[0].value.iloc[0, 0] == 5
    for setting in ("auto", "off"):  # the sample's four tables: too few for auto
        app.selectbox(key="link").set_value(setting).run()
        ask(app, "How many artists are there?")
        assert not any(i.value.startswith("schema linking") for i in app.info)
    monkeypatch.setenv("SMOLSQL_APP_LINK", "sometimes")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert "SMOLSQL_APP_LINK is one of auto, on, off, not 'sometimes'" in app.error[0].value
