"""Nothing personal in Redis or logs: whole conversations, then a scan of every key, value and log line."""

from __future__ import annotations

import logging
import re

import pytest
from redis.asyncio import Redis

from ivr.core.privacy import Pseudonyms
from ivr.simulator.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER, as_bytes, no_path, shipped_flow

# Distinctive numbers and words, so any copy of them anywhere is found.
TEXTER = "+15559871234"
CALLER = "+15559876543"
WORDS = "zebra ukulele left arm"
SPOKEN = "purple elephant no"


async def _everything_stored(redis: Redis) -> list[bytes]:
    found: list[bytes] = []
    for key in await redis.keys("*"):
        found.append(as_bytes(key))
        kind = as_bytes(await redis.type(key))
        if kind == b"string":
            found.append(as_bytes(await redis.get(key)))
        elif kind == b"stream":
            entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(key)  # type: ignore[assignment]
            for _, fields in entries:
                found.extend(as_bytes(k) + b"=" + as_bytes(v) for k, v in fields.items())
        else:
            found.append(as_bytes(await redis.dump(key)))
    return found


def _secrets() -> list[str]:
    numbers = [TEXTER, CALLER]
    forms = [n for number in numbers for n in (number, number.lstrip("+"), number[-10:], number[-7:])]
    return [*forms, WORDS, "zebra", "ukulele", "purple elephant"]


async def test_whole_conversations_leave_no_number_or_words_in_redis_or_logs(
    twilio: TwilioSimulator, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """Texts and calls to every outcome, with logging at DEBUG: afterwards no key, value or log line
    holds a phone number (in any common form), a message body or a speech transcript."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="ivr")
    await twilio.text(f"hi {WORDS}", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text(WORDS, sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("no", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("HELP", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("yes", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("hello again", sender=TEXTER, to=OUR_NUMBER)
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.say(SPOKEN, confidence=0.2)
    await call.press("2")
    await call.hang_up("completed")
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for _ in no_path(shipped_flow()):
        await call.press("2")
    await twilio.text("STOP", sender=TEXTER, to=OUR_NUMBER)

    stored = await _everything_stored(redis)
    assert stored, "the conversations should have left keys to scan"
    logs = [r.getMessage() + " " + repr(r.__dict__) for r in caplog.records]
    assert logs, "the app should have logged something to scan"
    for secret in _secrets():
        assert not [s for s in stored if secret.encode() in s], f"{secret!r} is stored in Redis"
        assert not [line for line in logs if secret in line], f"{secret!r} is in the logs"


async def test_keys_name_conversations_by_keyed_hash_or_call_sid_only(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """SMS keys carry a 22-character keyed hash; call keys the CallSid; the shared keys name flows."""
    await twilio.text("hi", sender=TEXTER, to=OUR_NUMBER)
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    pattern = re.compile(
        rb"ivr:\{(m:[A-Za-z0-9_-]{22}|v:CA[0-9a-f]{32})\}:[a-z](:.*)?|ivr:flow:[\w-]+:[0-9a-f]{16}"
    )
    for key in await redis.keys("*"):
        assert pattern.fullmatch(as_bytes(key)), key


async def test_the_same_number_on_another_deployment_gets_another_pseudonym(twilio: TwilioSimulator) -> None:
    """The keyed hash depends on IVR_HASH_KEY: without the key, a number cannot be matched to it."""
    first = Pseudonyms(b"k" * 32).sms_conversation(OUR_NUMBER, TEXTER)
    second = Pseudonyms(b"j" * 32).sms_conversation(OUR_NUMBER, TEXTER)
    assert first != second
    assert TEXTER.lstrip("+") not in first
