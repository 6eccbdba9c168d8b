"""A person on the line: with NURSE_NUMBER set, 0 at any question puts the caller through."""

from __future__ import annotations

from redis.asyncio import Redis

from ivr.store.audit import AuditLog
from ivr.twilio_sim import Call, Spoken, TwilioSimulator, parse_twiml
from tests.conftest import make_settings, serving
from tests.support import OUR_NUMBER, PUBLIC_BASE_URL, shipped_flow

NURSE = "+15550123999"
FLOW = shipped_flow()
ORDER = FLOW.question_order()
CALLER = "+15551002000"


async def _dial_ended(call: Call, spoken: Spoken, status: str) -> Spoken:
    """Twilio posts the <Dial> action when the nurse's leg ends, with its DialCallStatus."""
    dial = parse_twiml(spoken.xml).find("Dial")
    assert dial is not None
    response = await call.twilio.post(
        dial.get("action") or "", {**call._params("in-progress"), "DialCallStatus": status}
    )
    response.raise_for_status()
    call.last = Spoken.parse(response.text)
    return call.last


async def test_pressing_0_dials_the_nurse_and_an_unanswered_call_returns_to_the_question(
    redis: Redis,
) -> None:
    """0 at the second question: <Dial> to the nurse with a timeout and an action URL; no answer
    brings the caller back to the same question, and the triage goes on from there."""
    async with serving(make_settings(nurse_number=NURSE, nurse_dial_timeout=25)) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        opening = await call.start()
        assert "To talk with a nurse, press 0 at any question." in opening.says
        await call.press("1")
        await call.press("2")
        spoken = await call.press("0")
        assert spoken.says == ("Connecting you to a nurse. Please stay on the line.",)
        dial = parse_twiml(spoken.xml).find("Dial")
        assert dial is not None
        assert dial.text == NURSE
        assert dial.get("timeout") == "25"
        assert (dial.get("action") or "").startswith(f"{PUBLIC_BASE_URL}/voice/handoff?t=")
        back = await _dial_ended(call, spoken, "no-answer")
        assert back.says[0] == "The nurse could not answer. Let us go back to the questions."
        assert back.says[1].startswith(FLOW.questions[ORDER[1]].wording.text("en", voice=True))
        spoken = await call.press("1")
        assert spoken.says[0].startswith("Hang up and call 911 now.")
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_nurse_handoffs_total{result="unanswered"} 1.0' in metrics


async def test_an_answered_handoff_ends_the_triage_and_is_recorded(redis: Redis) -> None:
    """When the nurse took the call, the call ends after it and the audit records a handoff."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        await call.press("1")
        spoken = await call.press("0")
        after = await _dial_ended(call, spoken, "completed")
        assert after.says == ()
        assert await redis.keys("ivr:{*}:s") == []
        await call.hang_up("completed")
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_nurse_handoffs_total{result="answered"} 1.0' in metrics
    assert "ivr_calls_abandoned_total 0.0" in metrics
    [record] = await AuditLog(redis, 90).read()
    assert record.outcome == "handoff"


async def test_without_a_nurse_0_is_a_wrong_key_and_nothing_mentions_a_nurse(twilio: TwilioSimulator) -> None:
    """Unconfigured, the intro and the help text say nothing of a nurse, and 0 is just a wrong key."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    opening = await call.start()
    assert not any("nurse" in say for say in opening.says)
    await call.press("1")
    spoken = await call.press("0")
    assert spoken.says[0] == "Sorry, that key is not an option."
    await twilio.text("hi", sender=CALLER, to=OUR_NUMBER)
    [help_text] = await twilio.text("HELP", sender=CALLER, to=OUR_NUMBER)
    assert "nurse" not in help_text


async def test_with_a_nurse_the_help_text_says_how_to_reach_one(redis: Redis) -> None:
    """Configured, the SMS help text adds how to reach the nurse."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        [help_text] = await twilio.text("HELP", sender=CALLER, to=OUR_NUMBER)
    assert help_text.startswith("If this is an emergency, call 911 now.")
    assert "To talk with a nurse, call this number and press 0." in help_text
