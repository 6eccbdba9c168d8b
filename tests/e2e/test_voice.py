"""Whole phone calls through signed webhooks, on a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from ivr.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER, PUBLIC_BASE_URL, red_flags, shipped_flow

FLOW = shipped_flow()
ORDER = FLOW.question_order()
CALLER = "+15557654321"


def _question(qid: str) -> str:
    return FLOW.questions[qid].wording.text("en", voice=True)


async def test_a_call_opens_with_the_911_notice_then_gathers_one_key(twilio: TwilioSimulator) -> None:
    """The intro is said before the first question, which waits for one key and posts back to us."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    spoken = await call.start()
    assert "hang up and call 911 now" in spoken.says[0]
    assert spoken.says[1].startswith(_question(ORDER[0]))
    assert spoken.says[1].endswith("Press 1 for yes, or 2 for no.")
    assert spoken.gather_action is not None
    assert spoken.gather_action.startswith(f"{PUBLIC_BASE_URL}/voice/gather?t=")
    assert spoken.redirect == spoken.gather_action
    assert 'input="dtmf"' in spoken.xml
    assert 'numDigits="1"' in spoken.xml
    assert CALLER.lstrip("+") not in spoken.gather_action


async def test_pressing_2_to_everything_reaches_the_appointment_outcome(twilio: TwilioSimulator) -> None:
    """Each question is asked once; the last answer gets the appointment advice and a hang-up."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for i in range(len(ORDER)):
        spoken = await call.press("2")
        if i + 1 < len(ORDER):
            assert spoken.says[0].startswith(_question(ORDER[i + 1]))
    assert spoken.says[0].startswith("Please make an appointment with a healthcare provider")
    assert spoken.hangup
    assert spoken.gather_action is None


@pytest.mark.parametrize("flag", red_flags(FLOW))
async def test_pressing_1_on_any_red_flag_gives_the_emergency_outcome_next(
    twilio: TwilioSimulator, flag: str
) -> None:
    """A yes on any red flag is answered at once with the call-911 instruction and a hang-up."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for _ in range(ORDER.index(flag)):
        await call.press("2")
    spoken = await call.press("1")
    assert spoken.says[0].startswith("Hang up and call 911 now.")
    assert spoken.says[-1] == "Hang up and call 911 now."
    assert spoken.hangup


async def test_silence_repeats_the_question_twice_then_gives_the_safety_outcome(
    twilio: TwilioSimulator,
) -> None:
    """Two silent repeats, then the red flags that mean call 911, then the call ends."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for _ in range(2):
        spoken = await call.silence()
        assert spoken.says == (
            "I did not hear an answer.",
            f"{_question(ORDER[0])} Press 1 for yes, or 2 for no.",
        )
    spoken = await call.silence()
    assert spoken.says[0].startswith("Call 911 now if you have any of these")
    assert spoken.hangup


async def test_a_wrong_key_is_named_and_counts_toward_the_limit(twilio: TwilioSimulator) -> None:
    """A wrong key is said to be wrong; mixed with silence, the third miss ends the call safely."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.press("5")
    assert spoken.says[0] == "Sorry, that key is not an option."
    await call.silence()
    spoken = await call.press("9")
    assert spoken.says[0].startswith("Call 911 now if you have any of these")


async def test_a_replayed_answer_does_not_advance_twice(twilio: TwilioSimulator) -> None:
    """Posting the same gather twice (same step token) moves the call on once only."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    first = await call.start()
    second = await call.press("2")
    assert second.says[0].startswith(_question(ORDER[1]))
    replay = await call.press("2", prompt=first)
    assert replay.says[0].startswith(_question(ORDER[1]))
    assert replay.gather_action == second.gather_action


async def test_the_same_answer_posted_twice_at_once_advances_once(twilio: TwilioSimulator) -> None:
    """Two identical gather posts at the same moment: one advances, the other is told the same question."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    first = await call.start()
    results = await asyncio.gather(call.press("2", prompt=first), call.press("2", prompt=first))
    assert {r.says[0].split(" Press")[0] for r in results} == {_question(ORDER[1])}
    spoken = await call.press("2", prompt=results[0])
    assert spoken.says[0].startswith(_question(ORDER[2]))


async def test_the_status_callback_removes_a_finished_call(twilio: TwilioSimulator, redis: Redis) -> None:
    """A completed call's session is deleted at once; until then it has the voice idle TTL."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    [key] = await redis.keys("ivr:*")
    assert key == f"ivr:{{v:{call.sid}}}:s".encode()
    assert 890 < await redis.ttl(key) <= 900
    response = await call.hang_up("completed")
    assert response.status_code == 200
    assert await redis.keys("ivr:*") == []


async def test_a_status_that_is_not_final_keeps_the_session(twilio: TwilioSimulator, redis: Redis) -> None:
    """An in-progress status callback changes nothing."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.hang_up("in-progress")
    assert len(await redis.keys("ivr:*")) == 1
