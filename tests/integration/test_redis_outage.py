"""Redis killed and restarted, or stalled, in the middle of conversations: every webhook still answers
at once with the safety net, and the conversations carry on afterwards with nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ivr.simulator.twilio_sim import TwilioSimulator, in_process, messages_of, new_sid
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.redis_servers import RedisServer
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, no_path, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
BUDGET = 2.0  # seconds Twilio callers may wait on us, at most
CONVERSATIONS = 10
KILLS = 3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(tmp_path / "redis").start(appendonly=True)
    yield redis_server
    redis_server.stop()


@pytest.fixture
async def app(server: RedisServer) -> FastAPI:
    return create_app(make_settings(redis_url=server.url))


@pytest.fixture
async def twilio(app: FastAPI) -> AsyncIterator[TwilioSimulator]:
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio


def _question(index: int) -> str:
    return FLOW.questions[ORDER[index]].wording.text("en", voice=False)


async def _timed_text(twilio: TwilioSimulator, sender: str, body: str) -> tuple[float, int, list[str]]:
    began = time.monotonic()
    response = await twilio.post(
        "/sms", {"From": sender, "To": OUR_NUMBER, "Body": body, "MessageSid": new_sid("SM")}
    )
    return time.monotonic() - began, response.status_code, messages_of(response.text)


async def _wait_ready(client: httpx.AsyncClient, within: float = 20) -> float:
    began = time.monotonic()
    while time.monotonic() - began < within:
        if (await client.get("/readyz")).status_code == 200:
            return time.monotonic() - began
        await asyncio.sleep(0.1)
    pytest.fail("the app did not become ready again after Redis came back")


async def test_kills_and_restarts_lose_no_recorded_answer(
    twilio: TwilioSimulator, server: RedisServer
) -> None:
    """Ten texters answer through three kill -9 and restart cycles of Redis: while it is down every
    text gets HTTP 200 and the safety net within the budget, readiness reports 503, and afterwards
    each conversation continues exactly where its last recorded answer left it."""
    senders = [f"+1555010{i:04d}" for i in range(CONVERSATIONS)]
    for sender in senders:
        await twilio.text("hi", sender=sender, to=OUR_NUMBER)
    answered = 0
    slowest = 0.0
    for _ in range(KILLS):
        for sender in senders:
            [reply] = await twilio.text("no", sender=sender, to=OUR_NUMBER)
            assert reply.startswith(_question(answered + 1)), reply
        answered += 1

        server.kill()
        down = await asyncio.gather(*(_timed_text(twilio, s, "no") for s in senders))
        for seconds, status, bodies in down:
            slowest = max(slowest, seconds)
            assert status == 200
            assert seconds < BUDGET
            assert bodies[0].startswith("Call 911 now for any of these: trouble breathing")
        assert (await twilio.client.get("/readyz")).status_code == 503

        server.start(appendonly=True)
        await _wait_ready(twilio.client)
        await asyncio.sleep(1.1)  # the circuit breaker's cool-off

    # Every answer given while Redis was up survived the kills; the ones refused while it was down
    # were never recorded, so each texter is asked the next question in order.
    for sender in senders:
        [reply] = await twilio.text("no", sender=sender, to=OUR_NUMBER)
        assert reply.startswith(_question(answered + 1)), reply
    print(
        f"\n{KILLS} kills survived, {CONVERSATIONS} conversations, slowest answer while down {slowest:.3f} s"
    )


async def test_a_call_during_an_outage_hears_the_safety_net_and_later_calls_work(
    twilio: TwilioSimulator, server: RedisServer
) -> None:
    """A caller while Redis is down hears the spoken safety net and the call ends; once Redis is
    back, a new call gets the full triage."""
    server.kill()
    call = twilio.call(caller="+15550200000", to=OUR_NUMBER)
    began = time.monotonic()
    spoken = await call.start()
    assert time.monotonic() - began < BUDGET
    assert spoken.says[0].startswith("Call 911 now for any of these: trouble breathing")
    assert spoken.hangup
    server.start(appendonly=True)
    await _wait_ready(twilio.client)
    await asyncio.sleep(1.1)
    call = twilio.call(caller="+15550200000", to=OUR_NUMBER)
    spoken = await call.start()
    assert spoken.gather_action is not None
    assert "Para español, oprima 9." in spoken.says


async def test_a_stalled_redis_still_gets_an_answer_within_the_budget(
    twilio: TwilioSimulator, server: RedisServer
) -> None:
    """Redis that accepts connections but does not answer (CLIENT PAUSE) costs at most the timeouts."""
    await twilio.text("hi", sender="+15550300000", to=OUR_NUMBER)
    with server.client() as admin:
        admin.execute_command("CLIENT", "PAUSE", "4000", "ALL")
    seconds, status, bodies = await _timed_text(twilio, "+15550300000", "no")
    assert status == 200
    assert seconds < BUDGET
    assert bodies[0].startswith("Call 911 now for any of these: trouble breathing")
    await asyncio.sleep(4.2)
    await asyncio.sleep(1.1)
    [reply] = await twilio.text("no", sender="+15550300000", to=OUR_NUMBER)
    assert reply.startswith(_question(1))
