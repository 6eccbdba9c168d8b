"""Slow and unsigned bodies never hold a webhook's turn: 32 sockets that send a few bytes of a
declared kilobyte leave every slot free for signed texts, which are answered as usual; the slow
ones are cut off after WEBHOOK_BODY_TIMEOUT, counted and logged."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis

from ivr.bench.harness import free_port
from ivr.simulator.twilio_sim import TwilioSimulator
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL

BODY_TIMEOUT = 1.5
SLOW = 32  # as many as WEBHOOK_CONCURRENCY's default slots


@contextlib.asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[int]:
    """The app on a real port, in this process (uvicorn, as `ivr serve` runs it)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def _slow_body(port: int) -> bytes:
    """POST /sms declaring 1000 bytes, sending 5, then nothing: the answer the server gives it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /sms HTTP/1.1\r\nHost: line\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\n\r\nFrom="
        )
        await writer.drain()
        return await reader.read(200)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.fixture
def app(redis: Redis) -> FastAPI:
    return create_app(make_settings(webhook_body_timeout=BODY_TIMEOUT))


async def test_slow_unsigned_bodies_hold_no_slot(app: FastAPI) -> None:
    """While 32 slow bodies are open, signed texts are answered with their question (no busy safety
    net) within a second; each slow one is answered 408 once its time is up, counted by reason."""
    async with _served(app) as port:
        slow = [asyncio.ensure_future(_slow_body(port)) for _ in range(SLOW)]
        await asyncio.sleep(0.3)  # every slow request is in, waiting for the rest of its body
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            twilio = TwilioSimulator(client, AUTH_TOKEN, PUBLIC_BASE_URL)
            answers = []
            for i in range(5):
                began = time.monotonic()
                replies = await twilio.text("hi", sender=f"+1555060{i:04d}", to=OUR_NUMBER)
                answers.append((time.monotonic() - began, replies))
            assert all(not done.done() for done in slow), "the slow bodies were cut off too early"
        for seconds, replies in answers:
            assert seconds < 1.0
            assert replies[0].startswith("Muscle weakness advice line"), replies
        refusals = await asyncio.gather(*slow)
    assert all(r.startswith(b"HTTP/1.1 408") for r in refusals), refusals[:2]
    metrics = app.state.components.metrics.exposition().decode()
    assert f'ivr_webhooks_refused_before_turn_total{{reason="slow_body",route="/sms"}} {SLOW}.0' in metrics
    assert "ivr_safety_net_answers_total{" not in metrics


async def test_an_unsigned_webhook_is_refused_before_its_turn(twilio: TwilioSimulator, app: FastAPI) -> None:
    """An unsigned text is refused 403 without waiting for a slot, counted as such."""
    response = await twilio.client.post(
        "/sms",
        content=f"From=%2B15550600000&To={OUR_NUMBER}&Body=hi&MessageSid=SM{'0' * 32}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    metrics = app.state.components.metrics.exposition().decode()
    assert 'ivr_webhooks_refused_before_turn_total{reason="bad_signature",route="/sms"} 1.0' in metrics
