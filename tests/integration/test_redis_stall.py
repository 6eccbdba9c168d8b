"""Redis stalled under 30 concurrent texters (SIGSTOP, DEBUG SLEEP): every texter answered with the
safety net meanwhile sends the answer again, and no conversation skips a question or loses its
outcome, though Redis runs the abandoned turns when it resumes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from ivr.simulator.twilio_sim import TwilioSimulator, in_process
from ivr.store.audit import AuditLog
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.redis_servers import RedisServer
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, no_path, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
QUESTIONS = [FLOW.questions[q].wording.text("en", voice=False) for q in ORDER]
SAFETY_NET = "Call 911 now for any of these: trouble breathing"
APPOINTMENT = "Make an appointment"
TEXTERS = 30


@dataclass
class Tally:
    """What the texters saw."""

    skipped: list[str] = field(default_factory=list)  # "sender: expected question, got reply"
    safety_nets: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # sender -> outcome replies received
    progress: dict[str, int] = field(default_factory=dict)  # sender -> questions answered


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(tmp_path / "redis", extra=("--enable-debug-command", "yes"))
    redis_server.start(appendonly=False)
    yield redis_server
    redis_server.stop()


@pytest.fixture
async def twilio(server: RedisServer) -> AsyncIterator[TwilioSimulator]:
    app = create_app(make_settings(redis_url=server.url))
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as simulator:
        yield simulator


async def _texter(twilio: TwilioSimulator, sender: str, tally: Tally, rng: random.Random) -> None:
    """Walks the flow answering no, as a person would: the same answer again after a safety net."""

    async def send(body: str) -> list[str]:
        while True:
            replies = await twilio.text(body, sender=sender, to=OUR_NUMBER)
            if not replies[0].startswith(SAFETY_NET):
                return replies
            tally.safety_nets += 1
            await asyncio.sleep(rng.uniform(0.2, 0.4))  # they read it, then try again

    opening = await send("hi, my arms feel weak")
    assert opening[-1].splitlines()[-1].startswith(QUESTIONS[0]), opening
    asked = 0
    tally.progress[sender] = 0
    while True:
        await asyncio.sleep(rng.uniform(0.05, 0.2))
        [first, *_] = await send("no")
        if first.startswith(APPOINTMENT):
            if asked != len(QUESTIONS) - 1:
                tally.skipped.append(f"{sender}: outcome after question {asked}")
            tally.outcomes[sender] = tally.outcomes.get(sender, 0) + 1
            return
        following = [i for i, q in enumerate(QUESTIONS) if first.startswith(q)]
        if following != [asked + 1]:
            tally.skipped.append(f"{sender}: expected question {asked + 1}, got {following or first[:40]}")
        asked = following[0] if following else asked + 1
        tally.progress[sender] = asked


async def _under_load(twilio: TwilioSimulator, stall: Callable[[], Awaitable[None]]) -> Tally:
    """30 texters walk the flow; once each has answered two questions, Redis stalls."""
    tally = Tally()
    rng = random.Random(22)  # noqa: S311 - pacing, not secrets
    senders = [f"+1555030{i:04d}" for i in range(TEXTERS)]
    walks = [asyncio.ensure_future(_texter(twilio, s, tally, rng)) for s in senders]
    async with asyncio.timeout(20):
        while len(tally.progress) < TEXTERS or min(tally.progress.values()) < 2:
            if failed := [w for w in walks if w.done()]:
                await asyncio.gather(*failed)  # raises what went wrong in a texter
            await asyncio.sleep(0.02)
    await stall()
    async with asyncio.timeout(60):
        await asyncio.gather(*walks)
    return tally


async def _audit_outcomes(server: RedisServer) -> list[str]:
    client = redis.asyncio.Redis(port=server.port)
    try:
        return [r.outcome for r in await AuditLog(client, 90).read()]
    finally:
        await client.aclose()


def _assert_nothing_skipped_or_lost(tally: Tally, audit: list[str]) -> None:
    assert tally.safety_nets > 0, "the stall never reached a texter: the test showed nothing"
    assert tally.skipped == []
    assert tally.outcomes == {f"+1555030{i:04d}": 1 for i in range(TEXTERS)}
    assert audit == ["appointment"] * TEXTERS


@pytest.mark.parametrize("seconds", [3, 20])
async def test_a_stopped_redis_skips_no_question(
    twilio: TwilioSimulator, server: RedisServer, seconds: int
) -> None:
    """SIGSTOP for 3 s and for 20 s in the middle of 30 conversations, then SIGCONT: turns sent
    meanwhile run when Redis resumes, after their deadline, and save nothing; each texter's second
    try lands on the question they were asked; every conversation ends in its outcome, once."""

    async def stop() -> None:
        server.pause()
        try:
            await asyncio.sleep(seconds)
        finally:
            server.resume()

    began = time.monotonic()
    tally = await _under_load(twilio, stop)
    _assert_nothing_skipped_or_lost(tally, await _audit_outcomes(server))
    print(
        f"\nSIGSTOP {seconds} s: {TEXTERS} texters, {tally.safety_nets} safety nets, 0 skipped,"
        f" {TEXTERS} outcomes, {time.monotonic() - began:.1f} s"
    )


async def test_a_sleeping_redis_skips_no_question(twilio: TwilioSimulator, server: RedisServer) -> None:
    """DEBUG SLEEP 3 (Redis busy in one command, as in a long script or fork) under the same load:
    nothing skipped, nothing lost."""

    def sleep() -> None:
        with redis.Redis(port=server.port, socket_timeout=10) as admin:
            admin.execute_command("DEBUG", "SLEEP", "3")

    async def stall() -> None:
        await asyncio.to_thread(sleep)

    tally = await _under_load(twilio, stall)
    _assert_nothing_skipped_or_lost(tally, await _audit_outcomes(server))
    print(f"\nDEBUG SLEEP 3: {TEXTERS} texters, {tally.safety_nets} safety nets, 0 skipped")
