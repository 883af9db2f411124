"""End to end in a real browser: `smolsql app` on loopback, driven by Playwright in Chromium.

The real default model answers (llama.cpp when installed). Debian's chromium is used as it is
(`.ci/run` installs it); the test skips, saying why, where it or Playwright is missing.
Screenshots go to $SMOLSQL_E2E_OUT (default runs/browser/), one named after each test, and
app-kept.png of a kept answer in use (the one in docs/).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
         "--disable-gpu", "--no-first-run", "--disable-sync"]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no browser at {CHROMIUM}"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path: Path):
    port = free_port()
    smolsql = str(Path(sys.executable).with_name("smolsql"))
    proc = subprocess.Popen(
        [smolsql, "app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SMOLSQL_KEPT_DIR": str(tmp_path / "kept")},  # not the user's own
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"smolsql app exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


OUT = Path(os.environ.get("SMOLSQL_E2E_OUT", "runs/browser"))


@pytest.fixture
def page(app_url: str, request: pytest.FixtureRequest):
    """The app in headless Chromium; a screenshot named after the test when it ends."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(app_url)
        try:
            yield page
        finally:
            page.screenshot(path=str(OUT / f"{request.node.name}.png"), full_page=True)
            browser.close()


def ask(page, question: str) -> None:
    """Type a question, ask, and wait for its rows (the first time, for the model too)."""
    box = page.get_by_label("Question")
    box.wait_for(timeout=300_000)  # the first load converts the model to GGUF
    box.fill(question)
    box.press("Enter")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.get_by_text(re.compile(r"^\d+ rows? in \d+ ms")).first.wait_for(timeout=120_000)


def test_ask_on_the_sample_database_and_see_rows(page) -> None:
    ask(page, "How many artists are there?")
    page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)
    assert "SELECT" in page.locator("textarea").input_value().upper()
    rows_caption = page.get_by_text(re.compile(r"^\d+ rows? in \d+ ms"))
    assert rows_caption.inner_text().startswith("1 row ")
    assert not page.locator('[data-testid="stException"]').count()


def test_keep_an_answer_see_it_used_and_remove_it(page) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    ask(page, "How many artists are there?")
    sidebar.get_by_text("Kept answers (0)").wait_for(timeout=30_000)
    page.get_by_role("button", name="This is right: keep it").click()  # one click
    sidebar.get_by_text("Kept answers (1)").wait_for(timeout=30_000)
    # The heading is drawn before the list under it: wait for the list, then count it.
    sidebar.get_by_role("button", name="Remove").first.wait_for(timeout=30_000)
    assert sidebar.get_by_role("button", name="Remove").count() == 1
    assert sidebar.get_by_role("checkbox", name="Use them in the prompt").is_checked()  # default
    ask(page, "How many albums are there?")
    page.get_by_text("1 of 1 solved examples in the prompt").wait_for(timeout=60_000)
    sidebar.get_by_text("How many albums are there?").wait_for(timeout=30_000)  # all drawn
    page.screenshot(path=str(OUT / "app-kept.png"), full_page=True)
    sidebar.get_by_role("button", name="Remove").click()
    sidebar.get_by_text("Kept answers (0)").wait_for(timeout=30_000)
    assert not page.locator('[data-testid="stException"]').count()
