"""Many conversations at once on a real Redis: each ends with its own right outcome, none mixed up."""

from __future__ import annotations

import asyncio
import random
import time

from redis.asyncio import Redis

from ivr.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER, shipped_flow

FLOW = shipped_flow()
ORDER = FLOW.question_order()
CONVERSATIONS = 500
THINK_SECONDS = 2.0  # the longest pause before a reply


def _plan(i: int) -> tuple[str, str, int | None]:
    """Conversation i: its channel, its language, and the red flag it says yes to (None: all no)."""
    channel = "sms" if i % 2 == 0 else "voice"
    lang = FLOW.languages[(i // 2) % len(FLOW.languages)]
    flag = (i // 4) % (len(ORDER) + 1)
    return channel, lang, None if flag == len(ORDER) else flag


async def _think(i: int, step: int) -> None:
    """People take a moment to read and reply; without it this one process would be asked to serve
    500 requests in the same instant, which no caller ever does."""
    await asyncio.sleep(random.Random(i * 100 + step).uniform(0.0, THINK_SECONDS))  # noqa: S311 - not crypto


async def _converse(twilio: TwilioSimulator, i: int) -> str:
    """Runs conversation i, checking each reply is the one this conversation must get; returns its outcome."""
    channel, lang, flag = _plan(i)
    await _think(i, -1)
    number = f"+1555{i:07d}"
    answers = len(ORDER) if flag is None else flag + 1
    voice = channel == "voice"
    yes_word, no_word = ("sí", "no") if lang == "es" else ("yes", "no")
    if voice:
        call = twilio.call(caller=number, to=OUR_NUMBER)
        await call.start()
        spoken = await call.press(str(FLOW.languages.index(lang) + 1))
        reply = spoken.says[-1]
    else:
        reply = (await twilio.text("hola" if lang == "es" else "hi", sender=number, to=OUR_NUMBER))[0]
    for step in range(answers):
        question = FLOW.questions[ORDER[step]].wording.text(lang, voice=voice)
        assert question in reply, (i, step, reply)
        say_yes = flag == step
        await _think(i, step)
        if voice:
            spoken = await call.press("1" if say_yes else "2")
            reply = spoken.says[0]
        else:
            reply = (await twilio.text(yes_word if say_yes else no_word, sender=number, to=OUR_NUMBER))[0]
    expected = "appointment" if flag is None else "emergency"
    assert reply.startswith(FLOW.outcomes[expected].wording.parts(lang, voice=voice)[0]), (i, reply)
    return expected


async def test_500_conversations_at_once(twilio: TwilioSimulator, redis: Redis) -> None:
    """500 conversations (texts and calls, English and Spanish, every path) are all in progress at
    once, each person pausing up to two seconds before each reply; each gets exactly its own questions
    and outcome (no webhook falls back to the safety net), and none leaves a session behind."""
    began = time.monotonic()
    outcomes = await asyncio.gather(*(_converse(twilio, i) for i in range(CONVERSATIONS)))
    seconds = time.monotonic() - began
    assert len(outcomes) == CONVERSATIONS
    assert outcomes.count("appointment") == sum(1 for i in range(CONVERSATIONS) if _plan(i)[2] is None)
    assert await redis.keys("ivr:{*}:s") == []
    print(f"\n{CONVERSATIONS} concurrent conversations, 0 lost or mixed up, in {seconds:.1f} s")
