"""`ivr report --format html` read on a phone: nothing runs off the side of a 375-pixel screen."""

from __future__ import annotations

from playwright.sync_api import Browser

from ivr.ops.report_formats import as_html
from tests.browser.conftest import PHONE
from tests.unit.test_report import _summary


def test_the_html_report_fits_a_phone(browser: Browser) -> None:
    """At 375 px the page is no wider than the screen: wide tables and charts scroll in their own
    box, and the page has a viewport so the phone does not zoom it out."""
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.set_content(as_html(_summary()))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("meta[name=viewport]").count() == 1
        assert page.locator(".wide svg").count() == 2
    finally:
        context.close()
