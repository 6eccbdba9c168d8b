"""The phone page tells what happened: the path and badges for every class of answer, the outcome
as a card of its kind's colour with an end-of-conversation line, the panel following the current
step, Spanish marked lang="es", the rate limit explained, and the language shown during a call.
Question and outcome ids come from the flow, as the page reads them from the server."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ivr.web.simulator import STATIC
from tests.browser.conftest import PHONE, open_page
from tests.browser.test_phone import FLOW, QUESTIONS, answered, call_line, current, press, say, send_text

LAPTOP = {"width": 1280, "height": 800}
SPANISH_START = "Hola, tengo debilidad en los brazos"


@pytest.fixture
def laptop(browser: Browser, server: str) -> Iterator[Page]:
    """The page in a 1280x800 window, where the panel runs past the fold."""
    opened = open_page(browser, server, LAPTOP)
    yield opened
    opened.context.close()


def name(node: str) -> str:
    """A node as the page writes it: outcomes in capitals."""
    return node.upper() if node in FLOW.outcomes else node


def path_steps(page: Page) -> list[str]:
    return page.locator("#path li").all_inner_texts()


def badges(page: Page, question: str) -> list[str]:
    return page.locator(f"#flow-questions [data-node='{question}'] .badge").all_inner_texts()


def text_all(page: Page, bodies: list[str]) -> None:
    for body in bodies:
        send_text(page, body)


def test_yes(laptop: Page) -> None:
    """A yes to the first red flag: the path says yes and where it led, the badge says yes."""
    first = QUESTIONS[0]
    text_all(laptop, ["hello", "yes"])
    assert path_steps(laptop)[-1] == f"{first}: “yes” → yes → {name(FLOW.questions[first].yes)}"
    assert "answered: yes" in badges(laptop, first)


def test_no(laptop: Page) -> None:
    """A no: the path says no and names the next question, which is now current."""
    first, second = QUESTIONS[0], FLOW.questions[QUESTIONS[0]].no
    text_all(laptop, ["hello", "no"])
    assert path_steps(laptop)[-1] == f"{first}: “no” → no → {second}"
    assert "answered: no" in badges(laptop, first)
    expect(current(laptop)).to_have_attribute("data-node", second)


def test_unsure(laptop: Page) -> None:
    """ "hi" then "not sure": the badge reads "answered: not sure" (never "undefined"), and the
    path ends at the unsure outcome."""
    first = QUESTIONS[0]
    unsure = FLOW.unsure_outcome().id
    text_all(laptop, ["hi", "not sure"])
    assert "answered: not sure" in badges(laptop, first)
    assert path_steps(laptop)[-1] == f"{first}: “not sure” → not sure → {name(unsure)}"
    assert "undefined" not in laptop.locator("aside").inner_text()
    expect(current(laptop)).to_have_attribute("data-node", unsure)


def test_not_understood(laptop: Page) -> None:
    """A reply the line cannot read: not understood, and the same question asked again."""
    first = QUESTIONS[0]
    text_all(laptop, ["hi", "banana bread"])
    assert path_steps(laptop)[-1] == f"{first}: “banana bread” → not understood → {first} asked again"
    assert "answered: not understood" in badges(laptop, first)
    expect(current(laptop)).to_have_attribute("data-node", first)


def test_emergency_words(laptop: Page) -> None:
    """ "hi", "no", "I can't breathe": emergency words at the second question, not a yes to it."""
    second = FLOW.questions[QUESTIONS[0]].no
    emergency = FLOW.outcome_of_kind("emergency").id
    text_all(laptop, ["hi", "no", "I can't breathe"])
    assert path_steps(laptop)[-1] == f"{second}: “I can't breathe” → emergency words → {name(emergency)}"
    assert [b for b in badges(laptop, second) if b.startswith("answered")] == ["answered: emergency words"]
    expect(current(laptop)).to_have_attribute("data-node", emergency)


def test_help(laptop: Page) -> None:
    """A request for help: the help text, and the same question asked again; nothing answered."""
    first = QUESTIONS[0]
    text_all(laptop, ["hi", "help me"])
    assert path_steps(laptop)[-1] == f"“help me” → asked for help → {first} asked again"
    assert not [b for b in badges(laptop, first) if b.startswith("answered")]


def test_language_switch_by_text(laptop: Page) -> None:
    """ESPAÑOL: a language switch, the question again in Spanish, the panel and the indicator too."""
    first = QUESTIONS[0]
    text_all(laptop, ["hi", "ESPAÑOL"])
    assert path_steps(laptop)[-1] == f"“ESPAÑOL” → switched language → {first} asked again"
    expect(laptop.locator("#text-lang")).to_have_text("Language: Spanish")
    expect(current(laptop).locator(".q-text")).to_have_text(
        FLOW.questions[first].wording.text("es", voice=False)
    )


def test_language_switch_by_key_on_a_call(laptop: Page) -> None:
    """Key 9 on a call: a language switch in the path, and the call's language shown."""
    first = QUESTIONS[0]
    call_line(laptop)
    expect(laptop.locator("#call-lang")).to_have_text("Language: English")
    press(laptop, FLOW.call_languages["es"].key)
    assert (
        path_steps(laptop)[-1]
        == f"key {FLOW.call_languages['es'].key} → switched language → {first} asked again"
    )
    expect(laptop.locator("#call-lang")).to_have_text("Language: Spanish")


# ---- outcomes ---------------------------------------------------------------------------------


def answers_to(target: str) -> list[str] | None:
    """Yes and no answers that lead from the first question to `target`, the fewest; None if none do."""
    queue: deque[tuple[str, list[str]]] = deque([(QUESTIONS[0], [])])
    seen = set()
    while queue:
        node, answers = queue.popleft()
        if node == target:
            return answers
        if node in seen or node not in FLOW.questions:
            continue
        seen.add(node)
        queue.append((FLOW.questions[node].yes, [*answers, "yes"]))
        queue.append((FLOW.questions[node].no, [*answers, "no"]))
    return None


def texts_to(outcome: str) -> list[str]:
    """Texts that reach an outcome, from the flow: by yes and no, else as its kind is reached."""
    kind = FLOW.outcomes[outcome].kind
    by_answers = answers_to(outcome)
    if by_answers is not None:
        return by_answers
    if kind == "unsure":
        return ["not sure"]
    if kind == "safety":
        return ["banana bread"] * (FLOW.limits.sms_retries + 1)
    if kind == "crisis":
        phrase = FLOW.words[FLOW.default_language].crisis[0]  # a word may list its variants: a|b
        return [" ".join(word.split("|")[0] for word in phrase.split())]
    pytest.skip(f"no way to reach {outcome} ({kind}) known to this test")


def colours(page: Page, selector: str) -> tuple[str, str]:
    """The background and left border colour of the last element matching `selector`."""
    found: tuple[str, str] = tuple(
        page.locator(selector).last.evaluate(
            "(e) => { const s = getComputedStyle(e); return [s.backgroundColor, s.borderLeftColor]; }"
        )
    )
    return found


def neutral(page: Page) -> tuple[str, str]:
    """The colours of an outcome card of a kind nobody has given colours to."""
    page.evaluate(
        """() => { const li = document.createElement('li');
        li.className = 'bubble line outcome-card probe'; li.dataset.kind = 'a-kind-added-later';
        document.getElementById('messages').append(li); }"""
    )
    found = colours(page, ".probe")
    page.evaluate("() => document.querySelector('.probe').remove()")
    return found


COLOURED = set(re.findall(r'\[data-kind="([a-z_]+)"\]', (STATIC / "phone.css").read_text()))


@pytest.mark.parametrize("outcome", list(FLOW.outcomes))
def test_each_outcome_is_a_card_of_its_kind(laptop: Page, outcome: str) -> None:
    """Each outcome of the flow, reached by text: its reply is a card marked with its kind, in the
    kind's colours (a kind without colours of its own gets the neutral ones), then a line saying
    the conversation is over; in the panel the outcome is current and in view."""
    kind = FLOW.outcomes[outcome].kind
    text_all(laptop, ["hello", *texts_to(outcome)])
    card = laptop.locator("#messages .bubble.line.outcome-card").last
    expect(card).to_have_attribute("data-kind", kind)
    expect(laptop.locator("#messages .outcome-card .kind-label").last).to_have_text(
        f"Outcome: {kind} ({outcome})"
    )
    end = laptop.locator("#messages .bubble.end").last
    expect(end).to_contain_text("End of the conversation")
    expect(end).to_contain_text("Text again to start a new conversation.")
    shown = colours(laptop, "#messages .bubble.line.outcome-card")
    if kind in COLOURED:
        assert shown != neutral(laptop)
    else:
        assert shown == neutral(laptop)
    expect(current(laptop)).to_have_attribute("data-node", outcome)
    expect(current(laptop)).to_be_in_viewport()


def test_the_kinds_have_colours_of_their_own(laptop: Page) -> None:
    """The outcome kinds the page colours look different from each other and from the neutral
    default that any new kind gets."""
    seen = {}
    for kind in sorted(COLOURED):
        laptop.evaluate(
            """(kind) => { const li = document.createElement('li');
            li.className = 'bubble line outcome-card probe'; li.dataset.kind = kind;
            document.getElementById('messages').append(li); }""",
            kind,
        )
        seen[kind] = colours(laptop, ".probe")
        laptop.evaluate("() => document.querySelector('.probe').remove()")
    assert {"emergency", "today", "unsure", "safety", "appointment"} <= COLOURED
    assert len(set(seen.values())) == len(seen)
    assert neutral(laptop) not in seen.values()


def test_a_call_outcome_is_a_card_too(laptop: Page) -> None:
    """On a call the outcome's captions are a card, and a line says the call is over."""
    call_line(laptop)
    say(laptop, "yes")
    emergency = FLOW.outcome_of_kind("emergency").id
    expect(laptop.locator("#captions .outcome-card").first).to_have_attribute("data-kind", "emergency")
    expect(laptop.locator("#captions .bubble.end")).to_contain_text("End of the conversation")
    expect(current(laptop)).to_have_attribute("data-node", emergency)


def test_the_panel_follows_the_current_step(laptop: Page) -> None:
    """At 1280x800, walking to the last question and to the outcome, the current step and the path
    stay in view in the panel while the page, and the phone's text box, stay where they were."""
    answers = answers_to(FLOW.outcome_of_kind("appointment").id)
    assert answers is not None
    send_text(laptop, "hello")
    for answer in answers:
        send_text(laptop, answer)
        expect(current(laptop)).to_be_in_viewport()
        expect(laptop.locator("#text-body")).to_be_in_viewport()
    assert laptop.evaluate("() => window.scrollY") == 0
    expect(current(laptop)).to_have_attribute("data-node", FLOW.outcome_of_kind("appointment").id)


# ---- language, the rate limit ------------------------------------------------------------------


def spanish_texts() -> list[str]:
    """What the line says in Spanish, from the flow: questions, outcomes' openings, notices, the offer."""
    found = [FLOW.questions[q].wording.text("es", voice=v) for q in QUESTIONS for v in (False, True)]
    found += [FLOW.outcomes[o].wording.parts("es", voice=v)[0] for o in FLOW.outcomes for v in (False, True)]
    found += [FLOW.texts[t].text("es", voice=v) for t in ("intro", "help") for v in (False, True)]
    found.append(FLOW.call_languages["es"].offer)
    return [t for t in found if len(t) > 12]


UNMARKED = """(spanish) => {
  const unmarked = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('');
    if (!spanish.some((text) => own.includes(text.slice(0, 40)))) continue;
    const marked = el.closest('[lang]');
    if (!marked || !marked.lang.startsWith('es')) unmarked.push(own.slice(0, 60));
  }
  return unmarked;
}"""


def test_spanish_is_marked_as_spanish(laptop: Page) -> None:
    """Every node holding Spanish text, in the thread, the captions and the panel, is inside an
    element with lang="es..." (so a screen reader speaks it in Spanish); English ones are not."""
    text_all(laptop, [SPANISH_START, "no", "sí"])
    spanish = spanish_texts()
    assert laptop.evaluate(UNMARKED, spanish) == []
    assert laptop.locator("#messages .bubble.line .body[lang^=es]").count() >= 3
    call_line(laptop)
    offer = laptop.locator("#captions .bubble.line .body", has_text=FLOW.call_languages["es"].offer)
    assert (offer.get_attribute("lang", timeout=1000) or "").startswith("es")
    intro = laptop.locator("#captions .bubble.line .body").first
    assert (intro.get_attribute("lang", timeout=1000) or "").startswith("en")
    press(laptop, FLOW.call_languages["es"].key)
    say(laptop, "no")
    assert laptop.evaluate(UNMARKED, spanish) == []
    assert laptop.locator("#captions .said[lang^=es]").count() == 1


def test_the_rate_limit_is_explained_with_a_new_number(laptop: Page) -> None:
    """A number that keeps texting is paused by the line's flood limit: the page says so with
    the limit's numbers, and its button gives a new number that the line answers again."""
    limit = laptop.evaluate("() => state.flow.rate_limit")
    before = laptop.locator("#text-phone").inner_text()
    for _ in range(limit["texts"] + 1):
        laptop.fill("#text-body", "hello")
        laptop.press("#text-body", "Enter")
        answered(laptop)
    pause = laptop.locator("#messages .bubble.pause")
    expect(pause).to_be_visible()
    expect(pause).to_contain_text(
        f"more than {limit['texts']} texts in {limit['window_seconds'] // 60} minutes"
    )
    expect(laptop.locator("#path li").last).to_contain_text("paused: too many texts")
    pause.get_by_role("button", name="Text from a new number").click()
    assert laptop.locator("#text-phone").inner_text() != before
    reply = send_text(laptop, "hello")
    assert "911" in reply.inner_text()


def test_the_call_language_is_shown_on_a_phone(browser: Browser, server: str) -> None:
    """At 375 px wide, during a call, the language is on screen and fits the width."""
    page = open_page(browser, server, PHONE)
    try:
        call_line(page)
        press(page, FLOW.call_languages["es"].key)
        shown = page.locator("#call-lang")
        expect(shown).to_have_text("Language: Spanish")
        box = shown.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        # On screen while the keypad is in use, wherever the page has scrolled to.
        page.locator("#call-silence").scroll_into_view_if_needed()
        expect(shown).to_be_in_viewport()
        press(page, "2")
        expect(shown).to_be_in_viewport()
    finally:
        page.context.close()
