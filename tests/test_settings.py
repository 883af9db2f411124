"""One list of environment variables: every one the code, scripts and tests name is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smolsql import settings

ROOT = Path(__file__).parents[1]
NAME = re.compile(r"\b(?:SMOLSQL|OPENAI|AZURE_OPENAI|LLAMA_CPP)_[A-Z0-9_]*[A-Z0-9]\b")
SOURCES = ["src", "tests", "scripts", "benchmarks", ".ci", "Dockerfile", "compose.yaml", "Makefile"]


def _files() -> list[Path]:
    found = []
    for entry in SOURCES:
        path = ROOT / entry
        found += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return [p for p in found if p.suffix not in {".pyc", ".png", ".sqlite", ".gguf"}]


def test_every_variable_named_anywhere_is_listed() -> None:
    named = {m for path in _files() for m in NAME.findall(path.read_text(errors="ignore"))}
    listed = set(settings.BY_NAME)
    named -= {"SMOLSQL_JUDGE", "SMOLSQL_NOT_A_SETTING"}  # a prefix in a docstring; this test
    assert named - listed == set()  # a variable read somewhere but missing from the list
    assert listed - named == set()  # a listed variable nothing reads any more


def test_only_settings_reads_the_environment() -> None:
    reads = re.compile(r"os\.environ(\.get\(|\[)|os\.getenv\(")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "src").rglob("*.py")
        if reads.search(p.read_text()) and p.name != "settings.py"
    ]
    assert offenders == []


def test_the_docs_page_is_the_list() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert page.endswith(settings.markdown_table())


def test_values_defaults_and_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMOLSQL_GGUF_TYPE", raising=False)
    assert settings.env("SMOLSQL_GGUF_TYPE") == "q8_0"
    monkeypatch.setenv("SMOLSQL_GGUF_TYPE", "")  # empty is unset
    assert settings.env("SMOLSQL_GGUF_TYPE") == "q8_0"
    monkeypatch.setenv("SMOLSQL_GGUF_TYPE", "f16")
    assert settings.env("SMOLSQL_GGUF_TYPE") == "f16"
    with pytest.raises(KeyError):
        settings.env("SMOLSQL_NOT_A_SETTING")
