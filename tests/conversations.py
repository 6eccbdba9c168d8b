"""Scripted conversations for tests that run many at once: each knows its channel, language and the
question it says yes to, checks every reply it gets, and returns the outcome it reached."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from ivr.simulator.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER, script, shipped_flow

FLOW = shipped_flow()
ORDER = FLOW.question_order()

Pause = Callable[[int, int], Awaitable[None]]


def plan(i: int) -> tuple[str, str, int | None]:
    """Conversation i: its channel, its language, and the question it says yes to (None: all no)."""
    channel = "sms" if i % 2 == 0 else "voice"
    lang = FLOW.languages[(i // 2) % len(FLOW.languages)]
    flag = (i // 4) % (len(ORDER) + 1)
    return channel, lang, None if flag == len(ORDER) else flag


def expected_outcome(i: int) -> str:
    """All no: the appointment; a yes: where that question's yes leads, answering no after it."""
    flag = plan(i)[2]
    return script(FLOW, None if flag is None else ORDER[flag])[1]


def thinking(seconds: float) -> Pause:
    """People take a moment to read and reply: a pause of up to `seconds` before each step."""

    async def pause(i: int, step: int) -> None:
        await asyncio.sleep(random.Random(i * 100 + step).uniform(0.0, seconds))  # noqa: S311 - not crypto

    return pause


async def no_pause(i: int, step: int) -> None:
    return None


async def converse(twilio: TwilioSimulator, i: int, pause: Pause = no_pause, *, prefix: str = "+1555") -> str:
    """Runs conversation i, checking each reply is the one this conversation must get; returns its
    outcome. `pause(i, step)` runs before each step (step -1 before the first message)."""
    channel, lang, flag = plan(i)
    await pause(i, -1)
    number = f"{prefix}{i:07d}"
    steps, _ = script(FLOW, None if flag is None else ORDER[flag])
    voice = channel == "voice"
    yes_word, no_word = ("sí", "no") if lang == "es" else ("yes", "no")
    if voice:
        call = twilio.call(caller=number, to=OUR_NUMBER)
        spoken = await call.start()
        if lang != FLOW.default_language:
            spoken = await call.press(FLOW.call_languages[lang].key)
        reply = spoken.says[-1]
    else:
        reply = (await twilio.text("hola" if lang == "es" else "hi", sender=number, to=OUR_NUMBER))[0]
    for step, (asked, say_yes) in enumerate(steps):
        question = FLOW.questions[asked].wording.text(lang, voice=voice)
        assert question in reply, (i, step, reply)
        await pause(i, step)
        if voice:
            spoken = await call.press("1" if say_yes else "2")
            reply = spoken.says[0]
        else:
            reply = (await twilio.text(yes_word if say_yes else no_word, sender=number, to=OUR_NUMBER))[0]
    expected = expected_outcome(i)
    assert reply.startswith(FLOW.outcomes[expected].wording.parts(lang, voice=voice)[0]), (i, reply)
    return expected
