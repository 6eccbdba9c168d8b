"""Carrier keywords: STOP ends everything until START; HELP answers with the 911 notice first."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ivr.twilio_sim import TwilioSimulator, messages_of, new_sid
from tests.support import OUR_NUMBER, shipped_flow

SENDER = "+15550401234"


async def _raw_text(twilio: TwilioSimulator, body: str) -> str:
    response = await twilio.post(
        "/sms", {"From": SENDER, "To": OUR_NUMBER, "Body": body, "MessageSid": new_sid("SM")}
    )
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", "REVOKE", "optout", " Stop. "]
)
async def test_a_stop_word_ends_the_triage_and_silences_the_line(
    twilio: TwilioSimulator, redis: Redis, word: str
) -> None:
    """A whole-message opt-out word deletes the triage, records the opt-out, and gets an empty response;
    after that nothing at all is sent to the sender, whatever they text."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    assert await _raw_text(twilio, word) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert await redis.keys("ivr:{*}:s") == []
    assert len(await redis.keys("ivr:{*}:o")) == 1
    for body in ("hi", "yes", "I can't breathe", "HELP"):
        assert messages_of(await _raw_text(twilio, body)) == []
    assert await redis.keys("ivr:{*}:s") == []


@pytest.mark.parametrize("word", ["START", "unstop"])
async def test_start_opts_back_in_with_a_short_confirmation(twilio: TwilioSimulator, word: str) -> None:
    """START or UNSTOP after STOP confirms (911 notice first); the next text starts a triage again."""
    await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER)
    [confirmation] = await twilio.text(word, sender=SENDER, to=OUR_NUMBER)
    assert confirmation.startswith("If this is an emergency, call 911 now.")
    assert "You will get our messages again" in confirmation
    [first] = await twilio.text("hello", sender=SENDER, to=OUR_NUMBER)
    assert "If this is an emergency, call 911 now" in first


@pytest.mark.parametrize("word", ["HELP", "info", "Help!"])
async def test_help_leads_with_the_911_notice_and_changes_nothing(twilio: TwilioSimulator, word: str) -> None:
    """HELP or INFO get the help text, 911 first; the pending question is still pending afterwards."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [help_text] = await twilio.text(word, sender=SENDER, to=OUR_NUMBER)
    assert help_text.startswith("If this is an emergency, call 911 now.")
    assert "STOP" in help_text
    [next_question] = await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    flow = shipped_flow()
    assert next_question.startswith(flow.questions[flow.question_order()[1]].wording.text("en", voice=False))


async def test_help_is_in_the_conversation_language(twilio: TwilioSimulator) -> None:
    """A Spanish conversation gets the Spanish help text."""
    await twilio.text("hola", sender=SENDER, to=OUR_NUMBER)
    [help_text] = await twilio.text("HELP", sender=SENDER, to=OUR_NUMBER)
    assert help_text.startswith("Si es una emergencia, llame al 911 ahora.")


async def test_opt_outs_are_counted(twilio: TwilioSimulator, app: FastAPI) -> None:
    """Opt-outs and opt-ins show in /metrics."""
    await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("START", sender=SENDER, to=OUR_NUMBER)
    metrics = (await twilio.client.get("/metrics")).text
    assert "ivr_opt_outs_total 1.0" in metrics
    assert "ivr_opt_ins_total 1.0" in metrics
