"""Repeated webhooks are answered alike and applied once; late call callbacks change nothing."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from ivr.core.session import decode
from ivr.simulator.twilio_sim import TwilioSimulator, new_sid
from tests.support import OUR_NUMBER, as_bytes, no_path, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
SENDER = "+15550501234"


async def _session(redis: Redis) -> object:
    [key] = await redis.keys("ivr:{*}:s")
    return decode(as_bytes(await redis.get(key)))


async def test_a_repeated_message_sid_gets_the_same_reply_and_does_not_advance(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Twilio (or a proxy) sending one message twice: the second copy gets the first copy's reply."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    sid = new_sid("SM")
    first = await twilio.text("no", sender=SENDER, to=OUR_NUMBER, message_sid=sid)
    again = await twilio.text("no", sender=SENDER, to=OUR_NUMBER, message_sid=sid)
    assert first == again
    assert first[0].startswith(FLOW.questions[ORDER[1]].wording.text("en", voice=False))
    session = await _session(redis)
    assert session.answers == ((ORDER[0], False),)  # type: ignore[attr-defined]


async def test_copies_of_one_message_at_the_same_moment_advance_once(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Five copies of one message at once: all get the same reply; one answer is recorded."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    sid = new_sid("SM")
    replies = await asyncio.gather(
        *(twilio.text("no", sender=SENDER, to=OUR_NUMBER, message_sid=sid) for _ in range(5))
    )
    assert all(r == replies[0] for r in replies)
    session = await _session(redis)
    assert session.answers == ((ORDER[0], False),)  # type: ignore[attr-defined]


async def test_a_repeat_of_the_final_answer_repeats_the_outcome_without_starting_over(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """The message that ended the triage, sent again, gets the outcome again, not a new triage."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    sid = new_sid("SM")
    first = await twilio.text("yes", sender=SENDER, to=OUR_NUMBER, message_sid=sid)
    again = await twilio.text("yes", sender=SENDER, to=OUR_NUMBER, message_sid=sid)
    assert first == again
    assert first[0].startswith("Call 911 now.")
    assert await redis.keys("ivr:{*}:s") == []


async def test_several_different_texts_at_once_are_all_applied_in_turn(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Five distinct texts from one sender at the same moment: five answers recorded, none lost."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    replies = await asyncio.gather(*(twilio.text("no", sender=SENDER, to=OUR_NUMBER) for _ in range(5)))
    asked = sorted(r[0].split(" Reply")[0] for r in replies)
    assert asked == sorted(FLOW.questions[q].wording.text("en", voice=False) for q in ORDER[1:6])
    session = await _session(redis)
    assert session.answers == tuple((q, False) for q in ORDER[:5])  # type: ignore[attr-defined]


async def test_a_webhook_after_the_call_ended_revives_nothing(twilio: TwilioSimulator, redis: Redis) -> None:
    """A gather post that arrives after the completed callback (out of order) gets an empty answer
    and leaves no session behind."""
    call = twilio.call(caller=SENDER, to=OUR_NUMBER)
    prompt = await call.start()
    await call.hang_up("completed")
    late = await call.press("2", prompt=prompt)
    assert late.says == ()
    assert not late.hangup  # an empty response: the call is already over
    assert await redis.keys("ivr:{*}:s") == []


async def test_out_of_order_and_repeated_status_callbacks_count_one_abandoned_call(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """completed, then a late ringing, then completed again: one abandoned call, no session."""
    call = twilio.call(caller=SENDER, to=OUR_NUMBER)
    await call.start()
    await call.press("2")
    await call.hang_up("completed")
    await call.hang_up("ringing")
    await call.hang_up("completed")
    assert await redis.keys("ivr:{*}:s") == []
    metrics = (await twilio.client.get("/metrics")).text
    assert "ivr_calls_abandoned_total 1.0" in metrics


async def test_a_call_that_reached_an_outcome_is_not_abandoned(twilio: TwilioSimulator) -> None:
    """Hanging up after the outcome is a finished call, not an abandoned one."""
    call = twilio.call(caller=SENDER, to=OUR_NUMBER)
    await call.start()
    await call.press("1")
    await call.hang_up("completed")
    metrics = (await twilio.client.get("/metrics")).text
    assert "ivr_calls_abandoned_total 0.0" in metrics
