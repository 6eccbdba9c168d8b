"""A person on the line: with NURSE_NUMBER set, 0 at any question puts the caller through."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import Call, Spoken, TwilioSimulator, parse_twiml
from ivr.store.audit import AuditLog
from tests.conftest import make_settings, serving
from tests.support import OUR_NUMBER, PUBLIC_BASE_URL, no_path, shipped_flow

NURSE = "+15550123999"
FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
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
        assert opening.says[-1] == "To talk with a nurse, press 0 at any question."  # after the question
        await call.press("2")
        spoken = await call.press("0")
        assert spoken.says == ("Connecting you to a nurse. Please stay on the line.",)
        dial = parse_twiml(spoken.xml).find("Dial")
        assert dial is not None
        number = dial.find("Number")
        assert number is not None
        assert number.text == NURSE
        assert (number.get("url") or "").startswith(f"{PUBLIC_BASE_URL}/voice/screen?t=")
        # No answering machine detection: the press-1 screen rejects voicemail by itself.
        assert number.get("machineDetection") is None
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
    """When the nurse heard the whisper and pressed 1, the two were connected; after it the call
    ends and the audit records a handoff."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        await call.press("0")
        connected, after = await call.nurse_answers(press="1")
        assert connected
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
    spoken = await call.press("0")
    assert spoken.says[0] == "Sorry, that key is not an option."
    await twilio.text("hi", sender=CALLER, to=OUR_NUMBER)
    [help_text, _question] = await twilio.text("help me", sender=CALLER, to=OUR_NUMBER)
    assert help_text.startswith("If this is an emergency, call 911 now.")
    assert "nurse" not in help_text


async def test_with_a_nurse_the_help_text_says_how_to_reach_one(redis: Redis) -> None:
    """Configured, the SMS help text (asked for in words: Twilio answers the HELP keyword) adds how to
    reach the nurse."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        replies = await twilio.text("help me", sender=CALLER, to=OUR_NUMBER)
    assert replies[0].startswith("If this is an emergency, call 911 now.")
    assert "To talk with a nurse, call this number and press 0." in "\n".join(replies)


@pytest.mark.parametrize(("press", "screened"), [(None, "whispered"), ("2", "declined")])
async def test_a_voicemail_or_no_key_is_not_a_handoff_and_the_caller_goes_on_to_an_outcome(
    redis: Redis, press: str | None, screened: str
) -> None:
    """The nurse's phone answered by a voicemail (it hears the whisper and presses nothing) or by
    someone who pressed another key: Twilio still reports the <Dial> completed, but nobody was
    connected. The caller is told the nurse could not answer, is asked the same question, and a
    yes then gets the emergency outcome; no handoff is recorded."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        await call.press("2")
        await call.press("0")
        connected, back = await call.nurse_answers(press=press)
        assert not connected
        assert back.says[0] == "The nurse could not answer. Let us go back to the questions."
        assert back.says[1].startswith(FLOW.questions[ORDER[1]].wording.text("en", voice=True))
        spoken = await call.press("1")
        assert spoken.says[0].startswith("Hang up and call 911 now.")
        assert spoken.hangup
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_nurse_handoffs_total{result="not_taken"} 1.0' in metrics
    assert 'ivr_nurse_handoffs_total{result="answered"}' not in metrics
    assert f'ivr_nurse_screening_total{{result="{screened}"}} 1.0' in metrics
    assert [r.outcome for r in await AuditLog(redis, 90).read()] == ["emergency"]


async def test_the_whisper_asks_the_nurse_to_press_1_and_a_lost_screening_is_hung_up_on(redis: Redis) -> None:
    """Through the screening webhook: whoever answers hears the whisper at once, in a one-key gather
    that posts to the accept URL, and silence ends in a hang-up; a screening URL without a valid step
    token is hung up on."""
    async with serving(make_settings(nurse_number=NURSE)) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        spoken = await call.press("0")
        number = parse_twiml(spoken.xml).find("Dial/Number")
        assert number is not None
        leg = {"CallSid": "CA" + "3" * 32, "ParentCallSid": call.sid, "From": OUR_NUMBER, "To": NURSE}
        answered = await twilio.post(number.get("url") or "", leg)
        whisper = Spoken.parse(answered.text)
        assert whisper.says[0].endswith("Press 1 to take the call.")
        assert (whisper.gather_action or "").startswith(f"{PUBLIC_BASE_URL}/voice/screen/accept?t=")
        assert whisper.hangup
        lost = await twilio.post(f"{PUBLIC_BASE_URL}/voice/screen?t=not!a!token", leg)
        assert lost.text == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_nurse_screening_total{result="invalid"} 1.0' in metrics
