"""End to end in a real browser: `smolsql app` on loopback, driven by Playwright in Chromium.

The real default model answers (llama.cpp when installed). Debian's chromium is used as it is
(`.ci/run` installs it); the test skips, saying why, where it or Playwright is missing.
The screenshot goes to $SMOLSQL_E2E_OUT (default runs/browser/app.png).
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


def test_ask_on_the_sample_database_and_see_rows(app_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    out = Path(os.environ.get("SMOLSQL_E2E_OUT", "runs/browser"))
    out.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(app_url)
            # The first load waits for the model (and converts it to GGUF the first time).
            question = page.get_by_label("Question")
            question.wait_for(timeout=300_000)
            question.fill("How many artists are there?")
            question.press("Enter")
            page.get_by_role("button", name="Ask", exact=True).click()
            grid = page.locator('[data-testid="stDataFrame"]')
            grid.wait_for(timeout=120_000)
            rows_caption = page.get_by_text(re.compile(r"^\d+ rows? in \d+ ms"))
            rows_caption.wait_for(timeout=30_000)
            assert "SELECT" in page.locator("textarea").input_value().upper()
            assert rows_caption.inner_text().startswith("1 row ")
            assert not page.locator('[data-testid="stException"]').count()
        finally:
            page.screenshot(path=str(out / "app.png"), full_page=True)
            browser.close()


def test_keep_an_answer_see_it_used_and_remove_it(app_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    out = Path(os.environ.get("SMOLSQL_E2E_OUT", "runs/browser"))
    out.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        sidebar = page.locator('[data-testid="stSidebar"]')

        def ask(question: str) -> None:
            box = page.get_by_label("Question")
            box.wait_for(timeout=300_000)
            box.fill(question)
            box.press("Enter")
            page.get_by_role("button", name="Ask", exact=True).click()
            page.get_by_text(re.compile(r"^\d+ rows? in \d+ ms")).first.wait_for(timeout=120_000)

        try:
            page.goto(app_url)
            ask("How many artists are there?")
            sidebar.get_by_text("Kept answers (0)").wait_for(timeout=30_000)
            page.get_by_role("button", name="This is right: keep it").click()  # one click
            sidebar.get_by_text("Kept answers (1)").wait_for(timeout=30_000)
            assert sidebar.get_by_text("How many artists are there?").count() == 1
            sidebar.get_by_text("Use them in the prompt").click()  # the default model: asked
            ask("How many albums are there?")
            page.get_by_text("1 of 1 solved examples in the prompt").wait_for(timeout=60_000)
            page.screenshot(path=str(out / "app-kept.png"), full_page=True)
            sidebar.get_by_role("button", name="Remove").click()
            sidebar.get_by_text("Kept answers (0)").wait_for(timeout=30_000)
            assert not page.locator('[data-testid="stException"]').count()
        except Exception:
            page.screenshot(path=str(out / "app-kept-failed.png"), full_page=True)
            raise
        finally:
            browser.close()
