"""The simulator page in a real browser: `ivr serve` as on a fresh clone, and Debian's Chromium
driven by Playwright, launched by its path (no browser is downloaded)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.processes import ivr_serve_local

ROOT = Path(__file__).resolve().parents[2]
# Screenshots are kept with the test results (ignored by git); CI leaves them in its clone.
RESULTS = ROOT / "test-results" / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
# Without the networking flags Chromium keeps calling Google's hosts, which a closed network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="package")
def chromium() -> Path:
    """Debian's Chromium (`make test` installs it where it can: scripts/ensure-chromium). Missing,
    the browser tests are skipped with the reason in the summary; in CI they fail instead."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium, or set CHROMIUM to a Chromium binary"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ivr serve` with nothing configured: local mode, on a free port of 127.0.0.1."""
    with ivr_serve_local(tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Browser]:
    # Package scope: Playwright's own event loop is closed before the asyncio tests of other tiers.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


def open_page(browser: Browser, server: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, locale="en-US")  # type: ignore[arg-type]
    context.set_default_timeout(5_000)
    page = context.new_page()
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    return page


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page (its own browser context) on the simulator, ready to use, at desktop size."""
    opened = open_page(browser, server, DESKTOP)
    yield opened
    opened.context.close()


@pytest.fixture
def phone_page(browser: Browser, server: str) -> Iterator[Page]:
    """The same, in a phone-sized window."""
    opened = open_page(browser, server, PHONE)
    yield opened
    opened.context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now. axe.min.js comes from the installed
    axe-playwright-python package (a dev dependency), not from the repository."""
    source = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
    page.evaluate(source)
    results: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def screenshot(page: Page, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
