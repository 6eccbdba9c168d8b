"""The SMS renderer: exact TwiML for each kind of output, and the limits of a text message."""

from __future__ import annotations

from ivr.channels import sms
from ivr.core import engine, gsm
from ivr.core.engine import Output
from tests.support import shipped_flow, tiny_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def test_first_reply_puts_the_emergency_notice_and_question_in_one_message() -> None:
    """One message, so the notice cannot arrive after the question."""
    flow = tiny_flow()
    _, output = engine.start(flow, "sms", now=0)
    assert sms.render(flow, output) == (
        f"{HEAD}<Response><Message>Hi. Emergency? Call 911 now.\nQ1? Reply Y or N.</Message></Response>"
    )


def test_reprompt_says_it_did_not_understand_and_repeats_the_question() -> None:
    """The re-prompt names the problem, then asks the same question with the simplest way to
    answer: by number."""
    flow = tiny_flow()
    output = Output("en", notices=("not_understood",), ask="q2", simple=True)
    hint = "Reply 1 for YES, 2 for NO, 3 if NOT SURE."
    assert sms.render(flow, output) == f"{HEAD}<Response><Message>Unclear.\nQ2? {hint}</Message></Response>"


def test_emergency_outcome_is_one_message_starting_with_call_now() -> None:
    """The emergency outcome starts with the instruction to call the emergency number."""
    flow = tiny_flow()
    assert sms.render(flow, Output("en", outcome="urgent")) == (
        f"{HEAD}<Response><Message>Call 911 now.\nE2.</Message></Response>"
    )


def test_booking_link_goes_before_the_final_safety_net_only_when_configured() -> None:
    """With BOOKING_URL the link sits before the last part; without it there is no link."""
    output = Output("en", outcome="visit")
    assert sms.messages(tiny_flow(booking_url="https://b.example"), output) == [
        "See a provider.\nExpect tests.\nBook: https://b.example\nNet: call 911 for red flags."
    ]
    assert sms.messages(tiny_flow(), output) == [
        "See a provider.\nExpect tests.\nNet: call 911 for red flags."
    ]


def test_pack_never_splits_a_part_and_fills_messages_in_order() -> None:
    """Parts share a message while two segments allow; the next part starts a new message."""
    parts = ["a" * 200, "b" * 100, "c" * 100]
    assert sms.pack(parts) == ["a" * 200 + "\n" + "b" * 100, "c" * 100]
    assert sms.pack(["x" * 10]) == ["x" * 10]
    assert sms.pack([]) == []


def test_safety_net_gives_each_language_its_own_message_and_empty_response_is_empty() -> None:
    """The failure answer leads with the emergency number in every language; no bodies: empty response."""
    assert sms.safety_net(tiny_flow()) == (
        f"{HEAD}<Response><Message>Red flags: call 911 now. Broken.</Message>"
        "<Message>Alarma: llame al 911 ahora. Falla.</Message></Response>"
    )
    assert sms.twiml([]) == f"{HEAD}<Response />"


def test_spanish_replies_use_the_spanish_texts() -> None:
    """The output's language picks every text, including the answer hint."""
    flow = tiny_flow()
    assert sms.messages(flow, Output("es", notices=("intro",), ask="q1")) == [
        "Hola. ¿Emergencia? Llame al 911 ahora.\n¿P1? S o N."
    ]


def test_the_first_spanish_reply_of_the_shipped_flow_is_one_message() -> None:
    """The Spanish notice and first question fit one message, so they cannot arrive out of order."""
    flow = shipped_flow()
    for lang in flow.languages:
        [body] = sms.messages(flow, Output(lang, notices=("intro",), ask=flow.start))
        assert gsm.segments(body) <= 2


def test_a_long_passage_that_fits_no_message_is_still_sent_whole() -> None:
    """pack never cuts text; the flow checker is what keeps passages within the limits."""
    assert sms.pack(["x" * 400, "y"]) == ["x" * 400, "y"]
