"""The simulator's reading of replies: where a reply leaves a conversation, and what a text costs."""

from __future__ import annotations

from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.core import engine
from ivr.core.engine import Output
from ivr.simulator.twilio_sim import Spoken
from ivr.web.flow_view import Place, describe, place_of, text_message
from tests.support import shipped_flow

FLOW = shipped_flow()
FIRST = FLOW.question_order()[0]
STYLE = VoiceStyle()


def lines(output: Output) -> list[str]:
    return [line for message in sms.messages(FLOW, output) for line in message.split("\n")]


def test_a_text_asking_a_question_is_placed_at_it_in_its_language() -> None:
    """The first reply (notice, then the question) is placed at the first question, in Spanish."""
    output = Output(lang="es", notices=("intro",), ask=FIRST)
    assert place_of(FLOW, lines(output), voice=False) == Place(FIRST, "es")


def test_a_repeated_question_after_a_notice_is_still_that_question() -> None:
    """'Not understood' then the question again: the place is the question."""
    output = Output(lang="en", notices=("not_understood",), ask=FIRST, simple=True)
    assert place_of(FLOW, lines(output), voice=False) == Place(FIRST, "en")


def test_an_outcome_is_placed_at_the_outcome() -> None:
    """Each outcome's reply is placed at that outcome."""
    for oid in FLOW.outcomes:
        output = Output(lang="en", outcome=oid)
        assert place_of(FLOW, lines(output), voice=False) == Place(oid, "en")


def test_the_safety_net_is_nowhere_in_the_flow() -> None:
    """The service's own safety net names no question or outcome."""
    passages = [p for lang in FLOW.languages for p in FLOW.texts["safety_net"].parts(lang, voice=False)]
    assert place_of(FLOW, passages, voice=False) == Place()


def test_a_call_opening_is_placed_at_the_first_question_in_english() -> None:
    """A call's first prompt (the notice, the Spanish offer, the question) is at the first
    question, in English: the offer in Spanish does not move it."""
    spoken = Spoken.parse(
        voice.render(FLOW, engine.start(FLOW, "voice", now=0)[1], action_url="/g", style=STYLE)
    )
    assert FLOW.call_languages["es"].offer in spoken.says
    assert place_of(FLOW, spoken.says, voice=True) == Place(FIRST, "en")


def test_a_spoken_question_is_read_with_its_spoken_wording() -> None:
    """On a call the <Say> opens with the question's spoken wording and its hint."""
    question = FLOW.questions[FIRST].wording.text("es", voice=True)
    hint = FLOW.texts["voice_answer_hint"].text("es", voice=True)
    assert place_of(FLOW, [f"{question} {hint}"], voice=True) == Place(FIRST, "es")


def test_the_panel_lists_questions_in_order_with_their_routes() -> None:
    """The description follows question_order() and carries yes/no routes and every language."""
    described = describe(FLOW, voice_locales={"en": "en-US"})
    assert [q["id"] for q in described["questions"]] == FLOW.question_order()
    assert described["locales"] == {"en": "en-US", "es": "en-US"}  # a language without a locale
    assert set(described["questions"][0]["text"]) == set(FLOW.languages)


def test_a_text_message_reports_segments_encoding_and_room() -> None:
    """GSM-7 and UCS-2 texts, one and two segments, and the characters that forced UCS-2."""
    assert text_message("a" * 160) | {"text": ""} == {
        "text": "",
        "segments": 1,
        "encoding": "GSM-7",
        "units": 160,
        "capacity": 160,
        "not_gsm7": [],
    }
    two = text_message("a" * 161)
    assert (two["segments"], two["capacity"]) == (2, 306)
    accented = text_message("¿Sí? Está bien.")
    assert (accented["encoding"], accented["not_gsm7"], accented["capacity"]) == ("UCS-2", ["í", "á"], 70)
    assert text_message("€")["units"] == 2  # an extension character takes two septets
