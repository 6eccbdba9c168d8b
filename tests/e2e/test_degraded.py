"""When Redis is unreachable, every webhook still answers at once with valid safety TwiML."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import Spoken, TwilioSimulator, in_process, messages_of, new_sid
from ivr.store.sessions import SessionStore
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, safety_net_by_language

NOWHERE = "redis://127.0.0.1:1/0"  # port 1: nothing listens, connections are refused at once


@pytest.fixture
async def broken() -> AsyncIterator[tuple[TwilioSimulator, httpx.AsyncClient]]:
    settings = make_settings(redis_url=NOWHERE, redis_timeout=0.3)
    app = create_app(settings, store=SessionStore(Redis.from_url(NOWHERE, socket_connect_timeout=0.3)))
    async with in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio, twilio.client


async def test_sms_gets_the_safety_net(broken: tuple[TwilioSimulator, httpx.AsyncClient]) -> None:
    """A text while Redis is down gets HTTP 200 and the 911 red flags, within the 2 s budget."""
    twilio, _ = broken
    began = time.monotonic()
    response = await twilio.post(
        "/sms", {"From": "+15557654321", "To": OUR_NUMBER, "Body": "hi", "MessageSid": new_sid("SM")}
    )
    assert time.monotonic() - began < 2
    assert response.status_code == 200
    bodies = messages_of(response.text)
    english, spanish = safety_net_by_language(bodies)
    assert english.startswith("Call 911 now for any of these: trouble breathing")
    assert "emergency room" in "\n".join(bodies)
    assert "try again later" in "\n".join(bodies)
    assert spanish.startswith("Llame al 911 ahora")


@pytest.mark.parametrize("path", ["/voice", "/voice/gather?t=abc"])
async def test_calls_hear_the_safety_net_and_hang_up(
    broken: tuple[TwilioSimulator, httpx.AsyncClient], path: str
) -> None:
    """A call while Redis is down hears the safety net spoken, then the call ends cleanly."""
    twilio, _ = broken
    response = await twilio.post(path, {"CallSid": "CA" + "2" * 32, "Digits": "1"})
    assert response.status_code == 200
    assert "<Say" in response.text
    assert "Call 911 now" in Spoken.parse(response.text).text
    assert response.text.endswith("<Hangup /></Response>")


async def test_readiness_reports_503(broken: tuple[TwilioSimulator, httpx.AsyncClient]) -> None:
    """The readiness probe says the service cannot take conversations; liveness stays up."""
    _, client = broken
    assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/healthz")).status_code == 200


async def test_metrics_show_the_outage(broken: tuple[TwilioSimulator, httpx.AsyncClient]) -> None:
    """/metrics says not ready, the circuit breaker open and how often it opened, and the safety
    nets by reason, so that the dashboard and the alerts see the outage."""
    twilio, client = broken
    await twilio.post(
        "/sms", {"From": "+15557654321", "To": OUR_NUMBER, "Body": "hi", "MessageSid": new_sid("SM")}
    )
    metrics = (await client.get("/metrics")).text
    assert "\nivr_ready 0.0\n" in metrics
    assert "\nivr_redis_circuit_open 1.0\n" in metrics
    assert "\nivr_redis_circuit_opens_total 1.0\n" in metrics
    assert 'ivr_safety_net_answers_total{reason="redis",route="sms"} 1.0' in metrics
