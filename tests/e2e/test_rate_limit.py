"""A sender who sends too many texts is paused: one notice as the limit is crossed, then silence."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import TwilioSimulator, in_process
from ivr.store.sessions import SessionStore
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL


@pytest.fixture
async def limited(redis: Redis) -> AsyncIterator[TwilioSimulator]:
    app = create_app(make_settings(rate_limit_texts=5, rate_limit_window=60), store=SessionStore(redis))
    async with in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio


async def test_past_the_limit_one_notice_then_silence_and_a_log_line(
    limited: TwilioSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Texts 1-5 are answered; the 6th gets the pause notice (911 first); the 7th and later get nothing."""
    caplog.set_level(logging.WARNING, logger="ivr")
    sender = "+15550601234"
    for _ in range(5):
        assert await limited.text("hmm", sender=sender, to=OUR_NUMBER)
    [notice] = await limited.text("hmm", sender=sender, to=OUR_NUMBER)
    assert notice.startswith("If this is an emergency, call 911 now.")
    assert "pause" in notice
    for _ in range(3):
        assert await limited.text("hmm", sender=sender, to=OUR_NUMBER) == []
    assert [r.getMessage() for r in caplog.records].count("sender paused: too many texts") == 1
    metrics = (await limited.client.get("/metrics")).text
    assert "ivr_rate_limited_texts_total 4.0" in metrics


async def test_the_limit_is_per_sender(limited: TwilioSimulator) -> None:
    """Another sender is unaffected by one sender's flood."""
    for _ in range(8):
        await limited.text("hmm", sender="+15550601111", to=OUR_NUMBER)
    [first] = await limited.text("hi", sender="+15550602222", to=OUR_NUMBER)
    assert "If this is an emergency, call 911 now" in first


async def test_the_window_is_configurable_and_expires(limited: TwilioSimulator, redis: Redis) -> None:
    """The counter lives for the configured window; when it expires the sender is answered again."""
    sender = "+15550603333"
    for _ in range(7):
        await limited.text("hmm", sender=sender, to=OUR_NUMBER)
    [counter] = await redis.keys("ivr:{*}:n")
    assert 50 < await redis.ttl(counter) <= 60
    await redis.delete(counter)  # as if the window had passed
    assert await limited.text("hi", sender=sender, to=OUR_NUMBER)
