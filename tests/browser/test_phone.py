"""The phone in the browser: texts and calls to each outcome in each language, silence, a doubtful
spoken no, keyboard use, a phone-sized window, an accessibility scan, and a screenshot of each mode."""

from __future__ import annotations

import re
import struct

import pytest
from playwright.sync_api import Locator, Page, expect

from ivr.core.flow import Flow
from tests.browser.conftest import axe_violations, screenshot
from tests.support import no_path, shipped_flow

FLOW: Flow = shipped_flow()
QUESTIONS = no_path(FLOW)  # the questions met answering no to each
FIRST_TEXT = {"en": "hello, my arms feel weak", "es": "Hola, tengo debilidad en los brazos"}
SPOKEN = {"en": ("yes", "no"), "es": ("sí", "no")}
SERIOUS = ("serious", "critical")
SEGMENT_NOTE = re.compile(r"^\d+ SMS segments? · (GSM-7|UCS-2) · \d+/\d+")


def written(key: str, lang: str) -> str:
    return FLOW.texts[key].text(lang, voice=False)


def spoken(key: str, lang: str) -> str:
    return FLOW.texts[key].text(lang, voice=True)


def answered(page: Page) -> None:
    """Wait for the line's answer to what was just sent."""
    page.wait_for_selector("body:not([data-busy])")


def send_text(page: Page, body: str) -> Locator:
    """Text the line; returns the new replies."""
    before = page.locator("#messages .bubble.line").count()
    page.fill("#text-body", body)
    page.press("#text-body", "Enter")
    answered(page)
    return page.locator("#messages .bubble.line").nth(before)


def assert_opening_in_view(page: Page, reply: Locator) -> None:
    """The top of a reply is inside the visible part of the thread: its opening is read first."""
    thread, bubble = page.locator("#messages-log").bounding_box(), reply.bounding_box()
    assert thread is not None
    assert bubble is not None
    assert thread["y"] <= bubble["y"] < thread["y"] + thread["height"] - 20


def call_line(page: Page) -> None:
    page.check("#mode-call")
    page.click("#call-start")
    answered(page)


def press(page: Page, key: str) -> None:
    page.click(f"#keypad [data-key='{key}']")
    answered(page)


def say(page: Page, words: str, confidence_steps: int | None = None) -> None:
    """Say words; `confidence_steps` sets the slider from 0 by steps of 0.05, by keyboard."""
    if confidence_steps is not None:
        page.focus("#say-confidence")
        page.keyboard.press("Home")
        for _ in range(confidence_steps):
            page.keyboard.press("ArrowRight")
    page.fill("#say-words", words)
    page.click("#say-form button[type=submit]")
    answered(page)


def captions(page: Page) -> list[str]:
    return page.locator("#captions .bubble.line .body").all_inner_texts()


def current(page: Page) -> Locator:
    return page.locator("aside [aria-current=step]")


@pytest.mark.parametrize("lang", FLOW.languages)
@pytest.mark.parametrize("outcome", ["emergency", "appointment"])
def test_texts_reach_each_outcome(page: Page, lang: str, outcome: str) -> None:
    """By text, in each language: the first reply opens with the 911 notice and is shown from its
    top, each reply tells its segments and encoding, a yes to the second red flag gives the
    emergency outcome and no to everything the appointment, and the panel follows in that language."""
    first = send_text(page, FIRST_TEXT[lang])
    assert first.locator(".body").inner_text().startswith(written("intro", lang)[:40])
    assert "911" in written("intro", lang)
    assert_opening_in_view(page, first)
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[0])
    expect(current(page).locator(".q-text")).to_have_text(
        FLOW.questions[QUESTIONS[0]].wording.text(lang, voice=False)
    )

    yes, no = SPOKEN[lang]
    answers = [no, yes] if outcome == "emergency" else [no] * len(QUESTIONS)
    for answer in answers:
        reply = send_text(page, answer)
    assert (
        reply.locator(".body")
        .inner_text()
        .startswith(FLOW.outcomes[outcome].wording.parts(lang, voice=False)[0])
    )
    assert_opening_in_view(page, reply)
    notes = page.locator("#messages .bubble.line .segments").all_inner_texts()
    assert len(notes) == page.locator("#messages .bubble.line").count()
    assert all(SEGMENT_NOTE.match(note) for note in notes), notes
    expect(current(page)).to_have_attribute("data-node", outcome)
    expect(page.locator("#path li")).to_have_count(len(answers))


@pytest.mark.parametrize("lang", FLOW.languages)
@pytest.mark.parametrize("outcome", ["emergency", "appointment"])
def test_calls_reach_each_outcome(page: Page, lang: str, outcome: str) -> None:
    """By phone, in English, or in Spanish picked with its key: a spoken yes gives the emergency
    outcome, keypad noes the appointment; the line hangs up; prompts are read aloud in the call's
    language when asked."""
    page.evaluate(
        "() => { window.spokenAloud = []; window.speechSynthesis.speak ="
        " (u) => window.spokenAloud.push([u.lang, u.text]); }"
    )
    page.check("#mode-call")
    page.check("#read-aloud")
    call_line(page)
    assert spoken("intro", "en") in captions(page)
    assert FLOW.call_languages["es"].offer in captions(page)
    expect(page.locator("#call-status")).to_contain_text("a key or your words")
    if lang != FLOW.default_language:
        press(page, FLOW.call_languages[lang].key)
    assert captions(page)[-1].startswith(FLOW.questions[QUESTIONS[0]].wording.text(lang, voice=True))
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[0])

    if outcome == "emergency":
        say(page, SPOKEN[lang][0])
    else:
        for _ in QUESTIONS:
            press(page, "2")
    first_part = FLOW.outcomes[outcome].wording.parts(lang, voice=True)[0]
    assert any(caption.startswith(first_part) for caption in captions(page)[-2:])
    expect(page.locator("#call-status")).to_have_text("The call has ended.")
    expect(current(page)).to_have_attribute("data-node", outcome)
    expect(page.locator("#keypad button").first).to_be_disabled()
    aloud: list[list[str]] = page.evaluate("() => window.spokenAloud")
    locale = page.evaluate("(lang) => state.flow.locales[lang]", lang)
    assert any(u[0] == locale and u[1].startswith(first_part) for u in aloud), aloud


def test_a_silence_on_a_call_repeats_the_question(page: Page) -> None:
    """Staying silent does what Twilio does when nobody answers: the line says it heard nothing and
    asks the same question again, and the path shows it was asked again."""
    call_line(page)
    page.click("#call-silence")
    answered(page)
    said = captions(page)
    assert said[-3] == spoken("no_input", "en")
    assert said[-2] == FLOW.call_languages["es"].offer
    assert said[-1].startswith(FLOW.questions[QUESTIONS[0]].wording.text("en", voice=True))
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[0])
    expect(page.locator("#path li").last).to_contain_text("asked again")


def test_a_low_confidence_spoken_no_is_confirmed_by_keypad(page: Page) -> None:
    """A spoken no heard at confidence 0.30 is not believed: the line asks for a key, the page stops
    offering speech, and a key 2 then moves on to the next question."""
    call_line(page)
    say(page, "no", confidence_steps=6)
    expect(page.locator("#say-confidence-value")).to_have_text("0.30")
    assert spoken("confirm_by_key", "en") in captions(page)[-1]
    expect(page.locator("#call-status")).to_contain_text("key only")
    expect(page.locator("#say-form button[type=submit]")).to_be_disabled()
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[0])
    press(page, "2")
    expect(current(page)).to_have_attribute("data-node", FLOW.questions[QUESTIONS[0]].no)


def test_answering_a_call_in_spanish_moves_the_call_and_the_panel_to_spanish(page: Page) -> None:
    """Saying "para nada" to the first English question: the Spanish notice and the second question
    in Spanish, and the side panel follows the call into Spanish."""
    call_line(page)
    say(page, "para nada")
    said = captions(page)
    assert said[-2] == spoken("intro", "es")
    assert said[-1].startswith(FLOW.questions[QUESTIONS[1]].wording.text("es", voice=True))
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[1])
    expect(page.locator("#flow-meta")).to_contain_text("shown in es")
    expect(page.locator("#path li").last).to_contain_text("→ no")


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element is focused; fail if it never is."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def focus_ring(page: Page) -> str:
    """The outline drawn around the focused control (its label, for the mode radios)."""
    script = """() => {
      let el = document.activeElement;
      if (el.matches("input[type=radio]")) el = document.querySelector(`label[for=${el.id}]`);
      const style = getComputedStyle(el);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    }"""
    ring: str = page.evaluate(script)
    return ring


def test_the_page_is_usable_by_keyboard_alone(page: Page) -> None:
    """Text and call with the keyboard only: every control is reached by Tab, shows a visible focus
    ring, and keeps the focus where the next step is."""
    tab_to(page, "#text-body")
    assert focus_ring(page) == "solid 3px"
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    answered(page)
    assert written("intro", "en")[:40] in page.locator("#messages").inner_text()

    tab_to(page, "#mode-text")
    assert focus_ring(page) == "solid 3px"
    page.keyboard.press("ArrowRight")  # radios: the arrow picks Call
    expect(page.locator("#call-mode")).to_be_visible()
    tab_to(page, "#call-start")
    page.keyboard.press("Enter")
    answered(page)
    # The focus goes to what the line said, never to an answer key: Enter there answers nothing.
    assert page.evaluate("() => document.activeElement.id") == "captions-log"
    assert focus_ring(page) == "solid 3px"
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    answered(page)
    expect(page.locator("#call-status")).to_contain_text("In a call")
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[0])
    tab_to(page, "#keypad [data-key='2']")
    page.keyboard.press("Enter")
    answered(page)
    expect(current(page)).to_have_attribute("data-node", QUESTIONS[1])
    tab_to(page, "#say-words")
    page.keyboard.type(SPOKEN["en"][0])
    page.keyboard.press("Enter")
    answered(page)
    expect(current(page)).to_have_attribute("data-node", "emergency")
    assert page.evaluate("() => document.activeElement.id") == "call-start"


def test_a_phone_sized_window_needs_no_sideways_scrolling(phone_page: Page) -> None:
    """At 375 pixels wide everything fits the width, and the phone comes before the panel."""
    send_text(phone_page, "hello")
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375
    phone, panel = phone_page.locator(".phone").bounding_box(), phone_page.locator("aside").bounding_box()
    assert phone is not None
    assert panel is not None
    assert phone["y"] + phone["height"] <= panel["y"]
    for control in ("#text-body", "#mode-call + label"):
        box = phone_page.locator(control).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 375
    screenshot(phone_page, "phone-text.png")


def test_no_serious_or_critical_accessibility_violations(page: Page) -> None:
    """axe-core finds nothing serious or critical (contrast included) on the page, in Text mode with
    a conversation and in Call mode during a call."""
    send_text(page, "hello")
    send_text(page, "no")
    found = axe_violations(page)
    call_line(page)
    press(page, "2")
    found += axe_violations(page)
    serious = [
        (v["id"], v["impact"], len(v["nodes"])) for v in found if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_a_screenshot_of_each_mode_is_kept_with_the_results(page: Page) -> None:
    """Text mode part way through a conversation, and Call mode during a call, as PNG files."""
    send_text(page, "hello")
    send_text(page, "no")
    text = screenshot(page, "text-mode.png")
    call_line(page)
    say(page, "no", confidence_steps=8)
    call = screenshot(page, "call-mode.png")
    for path in (text, call):
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", header[16:24])
        assert width == 1200
        assert height >= 900
