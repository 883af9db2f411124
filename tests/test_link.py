"""Schema linking: which tables a question keeps, on a long schema joined by a key chain."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import ScriptedBackend

from smolsql.errors import SmolsqlError
from smolsql.lexical import column_rarity, columns_named, name_share, question_words, words
from smolsql.link import (
    AUTO_MIN_TABLES,
    LinkSettings,
    link_settings,
    link_tables,
    linked_schema,
    pruned_schema,
    sql_tables,
    with_linked_schemas,
)
from smolsql.prompt import example_prompt
from smolsql.ranker import EVIDENCE, Ranker, default_ranker, evidence
from smolsql.records import Example
from smolsql.schema import parse_ddl, render_schema

# car_makers -> model_list -> car_names -> cars_data: the chain the unseen car_1 needs,
# and five tables no question below is about.
DDL = """
CREATE TABLE continents (ContId INT PRIMARY KEY, Continent TEXT);
CREATE TABLE countries (CountryId INT PRIMARY KEY, CountryName TEXT, Continent INT,
  FOREIGN KEY (Continent) REFERENCES continents(ContId));
CREATE TABLE car_makers (Id INT PRIMARY KEY, Maker TEXT, FullName TEXT, Country INT,
  FOREIGN KEY (Country) REFERENCES countries(CountryId));
CREATE TABLE model_list (ModelId INT PRIMARY KEY, Maker INT, Model TEXT,
  FOREIGN KEY (Maker) REFERENCES car_makers(Id));
CREATE TABLE car_names (MakeId INT PRIMARY KEY, Model TEXT, Make TEXT,
  FOREIGN KEY (Model) REFERENCES model_list(Model));
CREATE TABLE cars_data (Id INT PRIMARY KEY, MPG TEXT, Horsepower TEXT, Weight INT, Year INT,
  FOREIGN KEY (Id) REFERENCES car_names(MakeId));
CREATE TABLE dealers (DealerId INT PRIMARY KEY, City TEXT, Phone TEXT);
CREATE TABLE staff (StaffId INT PRIMARY KEY, DealerId INT, Salary INT,
  FOREIGN KEY (DealerId) REFERENCES dealers(DealerId));
CREATE TABLE shifts (ShiftId INT PRIMARY KEY, StaffId INT, Hours INT,
  FOREIGN KEY (StaffId) REFERENCES staff(StaffId));
CREATE TABLE audits (AuditId INT PRIMARY KEY, Auditor TEXT, Outcome TEXT);
"""
SCHEMA = parse_ddl(DDL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CarNames", ("car", "name")),
        ("car_names", ("car", "name")),
        ("countries", ("country",)),
        ("addresses", ("address",)),
        ("status", ("status",)),
        ("How many makers?", ("how", "many", "maker")),
    ],
)
def test_words_split_names_and_questions_alike(text, expected):
    assert words(text) == expected


TWO_OF_TEN = math.log(11 / 2) / math.log(11)
"""The rarity of a column word that two of SCHEMA's ten tables have."""


@pytest.mark.parametrize(
    ("table", "question", "share", "columns"),
    [
        # `name` is generic, so the name's own word is `car`; only car_names has `make`, twice
        ("car_names", "Which car makes?", 1.0, 2.0),
        ("cars_data", "The weight of each car?", 0.5, 1.0),
        # `model` is in two of the ten tables' columns: rarer than common, less than one's own
        ("model_list", "Every model?", 0.5, 2 * TWO_OF_TEN),
        ("staff", "Each dealer's city?", 0.0, TWO_OF_TEN),
    ],
)  # fmt: skip
def test_a_table_s_name_and_column_words_meet_the_question(table, question, share, columns):
    asked = question_words(question)
    rarity = column_rarity(SCHEMA)
    found = next(t for t in SCHEMA.tables if t.name == table)
    assert name_share(table, asked) == pytest.approx(share)
    assert sum(columns_named(found, asked, rarity)) == pytest.approx(columns)


@pytest.mark.parametrize(
    ("question", "must_keep", "must_leave_out"),
    [
        # both ends of the chain named: every table between them comes along
        ("Which makers build cars with more than 150 horsepower?",
         {"car_makers", "model_list", "car_names", "cars_data"}, {"audits", "shifts"}),
        ("How many hours did each staff member work in shifts?",
         {"staff", "shifts"}, {"cars_data", "continents"}),
        ("What is the outcome of every audit?", {"audits"}, {"car_makers", "shifts"}),
    ],
)  # fmt: skip
def test_link_keeps_the_named_tables_and_the_chain_between_them(
    question, must_keep, must_leave_out
):
    link = link_tables(SCHEMA, question)
    assert link.pruned
    assert must_keep <= set(link.tables)
    assert not must_leave_out & set(link.tables)


def test_a_value_the_question_names_points_at_its_table():
    question = "Which audits mention Acme?"
    assert "dealers" not in link_tables(SCHEMA, question).tables
    hinted = link_tables(SCHEMA, question, hints=("dealers.City = 'Acme'",))
    assert "dealers" in hinted.tables


def test_short_schemas_and_unlinked_questions_keep_everything():
    short = pruned_schema(SCHEMA, ["continents", "countries", "car_makers"])
    assert link_tables(short, "How many makers?").tables == ("car_makers",)
    assert not link_tables(short, "How many makers?", settings=LinkSettings(min_tables=4)).pruned
    assert not link_tables(pruned_schema(SCHEMA, ["audits"]), "Every audit?").pruned
    nothing = link_tables(SCHEMA, "How many are there?")  # names no table, no column
    assert not nothing.pruned and len(nothing.tables) == len(SCHEMA.tables)
    wide = link_tables(SCHEMA, "x", settings=LinkSettings(min_tables=20))
    assert not wide.pruned


def test_a_pick_that_keeps_most_tables_keeps_them_all():
    question = "List continents, makers, models, car names, dealers, staff, shifts and audits"
    assert not link_tables(SCHEMA, question).pruned


def test_neighbours_widen_the_pick():
    question = "What is the outcome of every audit and the salary of the staff?"
    narrow = link_tables(SCHEMA, question)
    wide = link_tables(SCHEMA, question, settings=LinkSettings(neighbours=True))
    assert set(narrow.tables) == {"audits", "staff"}
    assert {"dealers", "shifts"} <= set(wide.tables)


def test_synonyms_meet_the_schema_words_a_question_does_not_use(monkeypatch):
    import smolsql.link
    from smolsql.lexical import question_words, synonym_table

    said = {"vendor": ("dealer",), "work shift": ("shift",)}
    assert question_words("Which vendors are in Paris?", said) >= {"vendor", "dealer"}
    assert "shift" in question_words("How long is each work shift?", said)
    assert "dealer" not in question_words("Which vendors are in Paris?")  # none given
    question = "How many vendors are there?"
    assert not link_tables(SCHEMA, question).pruned  # no table named: the whole schema
    monkeypatch.setattr(smolsql.link, "synonym_table", lambda: said)
    link = link_tables(SCHEMA, question, settings=LinkSettings(synonyms=True))
    assert link.pruned and link.tables == ("dealers",)
    shipped = synonym_table()  # learned from Spider-Syn's rewrites (benchmarks/synonyms.py)
    assert "customer" in shipped["client"] and all(isinstance(v, tuple) for v in shipped.values())


@pytest.mark.parametrize(
    ("question", "must_keep", "must_leave_out"),
    [
        ("Which makers build cars with more than 150 horsepower?",
         {"car_makers", "cars_data"}, {"audits", "shifts", "dealers"}),
        ("What is the outcome of every audit?", {"audits"}, {"car_makers", "shifts"}),
        ("How many hours did each staff member work in shifts?",
         {"staff", "shifts"}, {"cars_data", "continents"}),
    ],
)  # fmt: skip
def test_the_learned_ranker_keeps_what_the_question_names(question, must_keep, must_leave_out):
    link = link_tables(SCHEMA, question, settings=LinkSettings(learned=True))
    assert link.pruned
    assert must_keep <= set(link.tables)
    assert not must_leave_out & set(link.tables)


def test_the_ranker_weighs_each_table_s_evidence_and_keeps_a_share_of_the_best(monkeypatch):
    import smolsql.link

    rows = evidence(SCHEMA, "What is the outcome of every audit?")
    assert set(rows) == {t.name for t in SCHEMA.tables}
    assert all(len(row) == len(EVIDENCE) for row in rows.values())
    named = EVIDENCE.index("name share")
    assert rows["audits"][named] == 1.0 and rows["dealers"][named] == 0.0
    weights = dict.fromkeys(EVIDENCE, 0.0) | {"bias": -2.0, "name share": 4.0}
    ranker = Ranker(weights, keep_share=0.5)
    chances = ranker.chances(SCHEMA, "Every dealer and shift?")
    assert chances["dealers"] == chances["shifts"] > 0.5 > chances["staff"]
    monkeypatch.setattr(smolsql.link, "default_ranker", lambda: ranker)
    link = link_tables(SCHEMA, "Every dealer and shift?", settings=LinkSettings(learned=True))
    assert set(link.tables) == {"dealers", "shifts", "staff"}  # staff joins them


def test_a_ranker_file_without_every_weight_is_refused(tmp_path: Path, monkeypatch):
    import smolsql.ranker

    broken = tmp_path / "ranker.json"
    broken.write_text(json.dumps({"keep_share": 0.2, "weights": {"bias": 1.0}}))
    monkeypatch.setattr(smolsql.ranker, "RANKER_FILE", broken)
    default_ranker.cache_clear()
    try:
        with pytest.raises(SmolsqlError, match="no weight for"):
            default_ranker()
    finally:
        monkeypatch.undo()
        default_ranker.cache_clear()
    assert 0 < default_ranker().keep_share < 1  # the shipped file, whole


def test_auto_links_long_schemas_only():
    auto = link_settings("auto")
    assert link_settings("off") is None and link_settings("on").min_tables == 2
    assert auto is not None and auto.min_tables == AUTO_MIN_TABLES
    question = "What is the outcome of every audit?"
    assert link_tables(SCHEMA, question, settings=auto).pruned  # ten tables
    assert auto.leads(SCHEMA) and link_settings("on").leads(SCHEMA)  # asked linked first
    short = pruned_schema(SCHEMA, ["audits", "staff", "shifts", "dealers"])
    assert not link_tables(short, question, settings=auto).pruned
    assert link_tables(short, question, settings=link_settings("on")).pruned
    with pytest.raises(SmolsqlError, match="auto, on, off"):
        link_settings("sometimes")


@pytest.mark.parametrize("settings", [dict(min_tables=1), dict(max_share=0), dict(max_share=1.5)])
def test_bad_link_settings_are_refused(settings):
    with pytest.raises(SmolsqlError):
        LinkSettings(**settings)


def test_pruned_schema_drops_keys_to_tables_left_out():
    pruned = pruned_schema(SCHEMA, ["cars_data", "model_list"])
    assert [t.name for t in pruned.tables] == ["model_list", "cars_data"]  # the schema's order
    text = render_schema(pruned).text
    assert "REFERENCES car_names" not in text and "REFERENCES car_makers" not in text
    assert "Horsepower" in text


def test_linked_schema_says_what_it_left_out():
    shown, dropped = linked_schema(SCHEMA, "What is the outcome of every audit?")
    assert [t.name for t in shown.tables] == ["audits"]
    assert set(dropped) == {t.name for t in SCHEMA.tables} - {"audits"}
    whole, none = linked_schema(SCHEMA, "How many are there?")
    assert whole == SCHEMA and none == ()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM audits", {"audits"}),
        ("SELECT T1.Maker FROM car_makers AS T1 JOIN model_list AS T2 ON T1.Id = T2.Maker",
         {"car_makers", "model_list"}),
        ("SELECT Model FROM car_names WHERE MakeId IN (SELECT Id FROM CARS_DATA)",
         {"car_names", "cars_data"}),
        ("SELECT * FROM nowhere", set()),
        ("SELECT FROM WHERE (", set()),
    ],
)  # fmt: skip
def test_sql_tables_reads_the_tables_a_query_uses(sql, expected):
    assert sql_tables(sql, SCHEMA) == expected


def test_linked_schema_keeps_the_tables_it_is_told_to_whenever_it_cuts():
    question = "What is the outcome of every audit?"
    shown, dropped = linked_schema(SCHEMA, question, keep=["STAFF"])
    assert [t.name for t in shown.tables] == ["staff", "audits"]  # the schema's order
    assert "staff" not in dropped and "car_makers" in dropped
    assert linked_schema(SCHEMA, "How many are there?", keep=["staff"]) == (SCHEMA, ())
    everything = [t.name for t in SCHEMA.tables]
    assert linked_schema(SCHEMA, question, keep=everything) == (SCHEMA, ())  # nothing cut


def test_with_linked_schemas_reads_each_database_and_keeps_what_it_cannot(tmp_path: Path):
    path = tmp_path / "cars.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(DDL)
    full = render_schema(SCHEMA).text
    examples = [
        Example("What is the outcome of every audit?", full, db_path=str(path)),
        Example("How many are there?", full, db_path=str(path)),
        Example("What is the outcome of every audit?", full, db_path=str(tmp_path / "gone.db")),
        Example("What is the outcome of every audit?", "CREATE TABLE t (a INT);"),
    ]
    linked = with_linked_schemas(examples)
    assert linked[0].linked_schema.startswith("CREATE TABLE audits")
    assert "car_makers" not in linked[0].linked_schema and linked[0].schema == full
    assert "car_makers" not in example_prompt(linked[0])
    assert "car_makers" in example_prompt(linked[0], whole=True)
    assert linked[1] == examples[1]  # nothing to link: no linked schema
    assert linked[2:] == examples[2:]
    gold = replace(examples[0], sql="SELECT a.Outcome FROM audits AS a JOIN staff AS s")
    (trained,) = with_linked_schemas([gold], keep_gold=True)  # what training shows
    assert "CREATE TABLE staff" in trained.linked_schema
    assert "CREATE TABLE audits" in trained.linked_schema
    assert "car_makers" not in trained.linked_schema
    (served,) = with_linked_schemas([gold])
    assert "staff" not in served.linked_schema  # serving does not know the gold SQL
    assert not served.whole_first


SHORT_DDL = render_schema(pruned_schema(SCHEMA, ["audits", "staff", "shifts", "dealers"])).text


def test_a_short_schema_is_asked_whole_first_and_linked_for_candidates(tmp_path: Path):
    path = tmp_path / "short.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(SHORT_DDL)
    question = Example("What is the outcome of every audit?", SHORT_DDL, db_path=str(path))
    (later,) = with_linked_schemas([question], LinkSettings(lead_tables=5))
    (on,) = with_linked_schemas([question], link_settings("on"))
    assert later.linked_schema == on.linked_schema and "CREATE TABLE audits" in on.linked_schema
    assert later.whole_first and not on.whole_first
    assert "CREATE TABLE shifts" in example_prompt(later)  # asked with the whole schema
    assert "CREATE TABLE shifts" not in example_prompt(later, whole=False)
    assert example_prompt(on) == example_prompt(later, whole=False)
    assert example_prompt(on, whole=True) == example_prompt(later)


def test_ask_with_linking_prompts_with_the_linked_tables_and_checks_against_all(tmp_path: Path):
    from fakes import ScriptedBackend

    from smolsql.ask import ask
    from smolsql.choose import ChoiceSettings
    from smolsql.db import open_database

    path = tmp_path / "cars.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(DDL)
        connection.execute("INSERT INTO dealers VALUES (1, 'Acme', '555')")
    backend = ScriptedBackend({"audit": "SELECT City FROM dealers"})
    question = "Which audits mention Acme?"
    with open_database(path) as db:
        linked = ask(backend, question, db.schema(), db, run=True, link=LinkSettings())
        whole = ask(backend, question, db.schema(), db, choice=ChoiceSettings(candidates=1))
    prompt, full_prompt = backend.prompts
    # 'Acme' is a value of dealers.City: dealers comes along
    assert {"audits", "dealers"} == {
        t.name for t in SCHEMA.tables if f"CREATE TABLE {t.name} " in prompt
    }
    assert "car_makers" in full_prompt and "car_makers" not in prompt
    assert "Values:" not in prompt  # values help the linking; the prompt gets them only if asked
    assert any(
        n.startswith("schema linking: the prompt shows 2 of 10 tables") for n in linked.notes
    )
    assert not whole.notes and len(backend.prompts) == 2  # the greedy answer ran: no twin
    assert linked.problems == () and linked.result.rows == [("Acme",)]
    assert not backend.sampled


class ByPrompt(ScriptedBackend):
    """Answers by which schema the prompt shows: the whole one has table `only_whole`."""

    def __init__(self, linked: list[str], whole: list[str], only_whole: str = "car_makers") -> None:
        super().__init__()
        self.linked, self.whole, self.only_whole = linked, whole, only_whole

    def _answers(self, prompt: str) -> list[str]:
        return self.whole if f"CREATE TABLE {self.only_whole} " in prompt else self.linked


def test_when_the_two_prompts_disagree_both_are_sampled_and_all_vote(tmp_path: Path):
    from smolsql.ask import ask
    from smolsql.choose import ChoiceSettings
    from smolsql.db import open_database

    path = tmp_path / "cars.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(DDL)
        connection.executemany("INSERT INTO shifts VALUES (?, 1, ?)", [(1, 8), (2, 6)])
    empty = "SELECT Hours FROM shifts WHERE Hours > 100"
    right = "SELECT sum(Hours) FROM shifts"
    backend = ByPrompt(linked=[empty, right, empty], whole=[right, right, empty])
    question = "How many hours were worked in shifts?"
    with open_database(path) as db:
        answer = ask(
            backend, question, db.schema(), db, choice=ChoiceSettings(6), link=LinkSettings()
        )
    tried = answer.prediction.candidates
    assert [c.whole_schema for c in tried] == [False, True, False, False, True, True]
    assert [n for _, n, _ in backend.sampled] == [2, 2]  # the 4 samples split between prompts
    assert answer.sql.split() == ["SELECT", "SUM(Hours)", "FROM", "shifts"]
    assert tried[answer.prediction.chosen].votes == 3  # whole greedy, a sample from each


def test_without_linking_nothing_changes_in_the_choosing(tmp_path: Path):
    from smolsql.ask import ask
    from smolsql.choose import ChoiceSettings
    from smolsql.db import open_database

    path = tmp_path / "cars.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(DDL)
    backend = ByPrompt(linked=["SELECT 1"], whole=["SELECT count(*) FROM shifts"])
    with open_database(path) as db:
        answer = ask(backend, "How many shifts?", db.schema(), db, choice=ChoiceSettings(6))
    assert len(backend.prompts) == 1 and len(answer.prediction.candidates) == 1
    assert not answer.prediction.candidates[0].whole_schema


def test_whole_first_the_linked_prompt_writes_candidates_only_when_its_answer_fails(
    tmp_path: Path,
):
    from smolsql.ask import ask
    from smolsql.choose import ChoiceSettings
    from smolsql.db import open_database

    path = tmp_path / "short.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(SHORT_DDL)
        connection.executemany("INSERT INTO shifts VALUES (?, 1, ?)", [(1, 8), (2, 6)])
        connection.execute("INSERT INTO audits VALUES (1, 'Ann', 'pass')")
    empty = "SELECT Hours FROM shifts WHERE Hours > 100"
    right = "SELECT sum(Hours) FROM shifts"
    later = LinkSettings(lead_tables=5)
    question = "How many hours were worked in shifts?"
    with open_database(path) as db:
        fails = ByPrompt(linked=[right, right], whole=[empty, empty], only_whole="audits")
        answer = ask(fails, question, db.schema(), db, choice=ChoiceSettings(6), link=later)
        runs = ByPrompt(linked=[empty], whole=["SELECT count(*) FROM audits"], only_whole="audits")
        easy = ask(runs, question, db.schema(), db, choice=ChoiceSettings(6), link=later)
    tried = answer.prediction.candidates
    assert "CREATE TABLE audits " in fails.prompts[0]  # the whole schema came first
    assert [c.whole_schema for c in tried] == [True, False, True, True, False, False]
    assert [n for _, n, _ in fails.sampled] == [2, 2]  # the 4 samples split between prompts
    assert answer.sql.split() == ["SELECT", "SUM(Hours)", "FROM", "shifts"]
    assert tried[answer.prediction.chosen].votes == 3  # linked greedy and two linked samples
    assert any(n.startswith("schema linking: the prompt shows all 4 tables") for n in answer.notes)
    assert len(runs.prompts) == 1 and not runs.sampled  # it ran: the linked prompt never asked
    assert easy.prediction.candidates[0].whole_schema
