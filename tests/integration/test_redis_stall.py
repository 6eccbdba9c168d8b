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


class HoldingProxy:
    """A TCP relay to Redis that can hold Redis's replies back: what a Redis stopped between running
    a command and writing its reply looks like to the client (the command ran; no reply came)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.holding = asyncio.Event()
        self.released = asyncio.Event()
        self.released.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> HoldingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, held: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if held:
                        await self.released.wait()
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        for task in (
            asyncio.ensure_future(pipe(client_reader, redis_writer, held=False)),
            asyncio.ensure_future(pipe(redis_reader, client_writer, held=True)),
        ):
            self._tasks.add(task)


async def test_a_reply_saved_while_the_webhook_gave_up_is_sent_next(server: RedisServer) -> None:
    """Redis runs a turn but its reply is held back past the client's timeout (as when Redis is
    stopped between the two): the texter gets the safety net though the turn was saved. Their next
    text, the same answer again, gets the question the saved turn asked, not the one after it;
    then the walk goes on one question at a time."""
    sender = "+15550399999"
    async with HoldingProxy(server.port) as proxy:
        app = create_app(make_settings(redis_url=f"redis://127.0.0.1:{proxy.port}/0", redis_timeout=0.3))
        async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
            opening = await twilio.text("hi, my arms feel weak", sender=sender, to=OUR_NUMBER)
            assert opening[-1].splitlines()[-1].startswith(QUESTIONS[0])
            proxy.hold()
            [lost] = (await twilio.text("no", sender=sender, to=OUR_NUMBER))[:1]
            assert lost.startswith(SAFETY_NET)
            proxy.release()
            app.state.components.store.breaker.succeeded()  # as after its cool-off
            [again] = (await twilio.text("no", sender=sender, to=OUR_NUMBER))[:1]
            assert again.startswith(QUESTIONS[1]), again
            [following] = (await twilio.text("no", sender=sender, to=OUR_NUMBER))[:1]
            assert following.startswith(QUESTIONS[2]), following
