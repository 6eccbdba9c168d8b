"""The SMS renderer: exact TwiML for each kind of output, and the limits of a text message."""

from __future__ import annotations

import re

import pytest

from ivr import engine, gsm
from ivr.channels import sms
from ivr.engine import Output
from tests.support import shipped_flow, tiny_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
RESERVED = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")


def test_first_reply_puts_the_emergency_notice_and_question_in_one_message() -> None:
    """One message, so the notice cannot arrive after the question."""
    flow = tiny_flow()
    _, output = engine.start(flow, "sms", now=0)
    assert sms.render(flow, output) == (
        f"{HEAD}<Response><Message>Hi. Emergency? Call 911 now.\nQ1? Reply Y or N.</Message></Response>"
    )


def test_reprompt_says_it_did_not_understand_and_repeats_the_question() -> None:
    """The re-prompt names the problem, then asks the same question with the answer hint."""
    flow = tiny_flow()
    output = Output("en", notices=("not_understood",), ask="q2")
    assert (
        sms.render(flow, output)
        == f"{HEAD}<Response><Message>Unclear.\nQ2? Reply Y or N.</Message></Response>"
    )


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
        "See a provider.\nExpect tests.\nBook: https://b.example\nNet: call 911."
    ]
    assert sms.messages(tiny_flow(), output) == ["See a provider.\nExpect tests.\nNet: call 911."]


def test_pack_never_splits_a_part_and_fills_messages_in_order() -> None:
    """Parts share a message while two segments allow; the next part starts a new message."""
    parts = ["a" * 200, "b" * 100, "c" * 100]
    assert sms.pack(parts) == ["a" * 200 + "\n" + "b" * 100, "c" * 100]
    assert sms.pack(["x" * 10]) == ["x" * 10]
    assert sms.pack([]) == []


def test_safety_net_and_empty_response() -> None:
    """The failure answer leads with the emergency number; no bodies make an empty response."""
    assert sms.safety_net(tiny_flow(), "en") == (
        f"{HEAD}<Response><Message>Broken. Red flags: call 911 now.</Message></Response>"
    )
    assert sms.twiml([]) == f"{HEAD}<Response />"


def _every_output(booking_url: str | None) -> list[Output]:
    flow = shipped_flow(booking_url=booking_url)
    outputs = [engine.start(flow, "sms", now=0)[1]]
    for qid in flow.questions:
        outputs.append(Output("en", ask=qid))
        outputs.append(Output("en", notices=("not_understood",), ask=qid))
    outputs.extend(Output("en", outcome=oid) for oid in flow.outcomes)
    return outputs


@pytest.mark.parametrize("booking_url", [None, "https://booking.example-health.org/appointments/new?src=sms"])
def test_every_shipped_message_is_gsm7_within_two_segments_and_two_messages(booking_url: str | None) -> None:
    """Each reply of the real flow is plain GSM-7, each message at most 306 characters, at most two."""
    flow = shipped_flow(booking_url=booking_url)
    for output in _every_output(booking_url):
        bodies = sms.messages(flow, output)
        assert 1 <= len(bodies) <= 2, output
        for body in bodies:
            assert gsm.is_gsm7(body), (body, gsm.non_gsm7_characters(body))
            assert gsm.segments(body) <= 2, body
    assert gsm.is_gsm7(sms.safety_net(flow, "en"))


def test_no_shipped_prompt_mentions_a_carrier_keyword() -> None:
    """No message asks for, or even contains, a word carriers act on (STOP, END, CANCEL...)."""
    flow = shipped_flow()
    for output in _every_output(None):
        for body in sms.messages(flow, output):
            words = set(re.findall(r"[A-Za-z]+", body.upper()))
            assert not words & set(RESERVED), body


def test_emergency_outcomes_lead_with_calling_911_now() -> None:
    """The first sentence of the emergency and safety outcomes tells the person to call 911 now."""
    flow = shipped_flow()
    for oid in ("emergency", "unclear"):
        first = sms.messages(flow, Output("en", outcome=oid))[0]
        assert re.match(r"^Call 911 now\b", first), first
