"""One worker given more conversations than it can serve: what people get, and that nobody loses their place.

`ivr bench --overload` pins one worker of the line to one core and the load to the other. It first
measures what the worker serves (64 connections, each one conversation after another), then lets
new conversations arrive at random, as texts and calls do, at `factor` times that rate for a few
seconds, each person answering as soon as they have the reply. Every reply is checked byte for
byte. An answer that gets the safety net is sent again a moment later (a new text, or the same key
on the same prompt) and must then get exactly the reply it should have got the first time: proof
that the late answer was not recorded, so the conversation neither lost its place nor moved on
twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import httpx
import redis
import uvloop

from ivr.bench.harness import AUTH_TOKEN, free_port, line_env, machine, private_redis, server
from ivr.bench.load import Generator, Step
from ivr.bench.progress import SETUP_SECONDS, Steps
from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.config import PACKAGED_FLOWS
from ivr.core.flow import Flow
from ivr.flows.flowfile import load_flows
from ivr.ops.failures import Failed

RETRIES = 5  # a person who keeps getting the safety net stops after this many tries
SERVER_CPU, CLIENT_CPU = 0, 1


@dataclass(frozen=True)
class OverloadPlan:
    """How hard and how long to press one worker, and how people behave meanwhile."""

    factor: float = 2.0  # arrivals as a multiple of what the worker was measured to serve
    seconds: float = 6.0  # how long conversations keep arriving at that rate
    capacity_seconds: float = 5.0
    retry_pause: float = 1.0  # seconds before a person sends an answer again after the safety net
    max_connections: int = 15_000  # conversations in progress at once that the client will hold
    seed: int = 11


@dataclass
class Outcome:
    """What the people in one overload run got."""

    capacity_rps: float = 0.0  # webhooks a second the worker served, 64 connections, closed loop
    offered_rps: float = 0.0  # factor x capacity: what the arrivals ask for
    conversations: int = 0
    finished_right: int = 0  # reached the outcome their answers lead to, every reply exact
    gave_up: int = 0  # got the safety net RETRIES + 1 times in a row
    lost_place: int = 0  # a reply that was neither the right one nor the safety net
    webhooks: int = 0
    answered_exactly: int = 0
    safety_nets: int = 0
    safety_nets_by_reason: dict[str, int] = field(default_factory=dict)
    kept_place_after_safety_net: int = 0  # the answer sent again got exactly its reply
    connection_errors: int = 0
    peak_in_progress: int = 0
    served_rps: float = 0.0  # exact answers a second, from the first arrival to the last reply
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    slowest_ms: float = 0.0
    seconds_to_drain: float = 0.0  # after the last arrival, until the last conversation ended


def parse_response(buffer: bytearray) -> tuple[int, bytes] | None:
    """Take one complete HTTP/1.1 response off the front of `buffer`: (status, body), or None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    length = 0
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return int(head[9:12]), body


class Exchange(asyncio.Protocol):
    """One keep-alive connection, one request at a time, with as little Python per reply as
    possible: one core must send twice what the server's core can take."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # uvloop's does not subclass it

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and (response := parse_response(self.buffer)) is not None:
            waiter, self.waiter = self.waiter, None
            waiter.set_result(response)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and wait for its response: (status, body)."""
        assert self.transport is not None  # noqa: S101 - connected before use
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        """Close the connection."""
        if self.transport is not None:
            self.transport.close()


async def _connect(port: int) -> Exchange:
    _, exchange = await asyncio.get_running_loop().create_connection(Exchange, "127.0.0.1", port)
    return exchange


@dataclass
class Crowd:
    """People texting and calling one server: each conversation on its own connection, every reply
    checked, every answer that got the safety net sent again."""

    port: int
    safety_nets: set[bytes]
    plan: OverloadPlan
    outcome: Outcome
    latencies: list[float] = field(default_factory=list)
    in_progress: int = 0

    async def arrive(self, conversations: list[list[Step]], arrivals: list[float]) -> None:
        """Start each conversation at its arrival time; return when all have ended."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        slots = asyncio.Semaphore(self.plan.max_connections)

        async def person(steps: list[Step], at: float) -> None:
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            async with slots:
                self.in_progress += 1
                self.outcome.peak_in_progress = max(self.outcome.peak_in_progress, self.in_progress)
                try:
                    await self.converse(steps)
                finally:
                    self.in_progress -= 1

        await asyncio.gather(*(person(steps, at) for steps, at in zip(conversations, arrivals, strict=True)))

    async def converse(self, steps: list[Step]) -> None:
        """One person's conversation, on a connection of its own."""
        outcome = self.outcome
        try:
            exchange = await _connect(self.port)
        except OSError:
            outcome.connection_errors += 1
            return
        try:
            for step in steps:
                if not await self._answer(exchange, step):
                    return
            outcome.finished_right += 1
        finally:
            exchange.close()

    async def _answer(self, exchange: Exchange, step: Step) -> bool:
        """One answer, sent again after each safety net; False when the conversation cannot go on."""
        outcome = self.outcome
        raw = step.raw
        for attempt in range(RETRIES + 1):
            began = time.perf_counter()
            try:
                status, body = await exchange.send(raw)
            except (OSError, ValueError):
                outcome.connection_errors += 1
                return False
            self.latencies.append(time.perf_counter() - began)
            outcome.webhooks += 1
            if status == 200 and body == step.expect:
                outcome.answered_exactly += 1
                outcome.kept_place_after_safety_net += 1 if attempt else 0
                return True
            if status != 200 or body not in self.safety_nets:
                outcome.lost_place += 1
                return False
            outcome.safety_nets += 1
            await asyncio.sleep(self.plan.retry_pause)
            raw = step.again or step.raw
        outcome.gave_up += 1
        return False


async def closed_loop(
    port: int, conversations: list[list[Step]], seconds: float, connections: int = 64
) -> float:
    """Webhooks a second the server answers, `connections` conversations at a time back to back,
    each reply checked (a wrong one stops the measurement: capacity means right answers)."""
    queue = iter(conversations)
    done = 0
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds

    async def connection() -> None:
        nonlocal done
        exchange = await _connect(port)
        try:
            while loop.time() < until and (steps := next(queue, None)) is not None:
                for step in steps:
                    status, body = await exchange.send(step.raw)
                    if status != 200 or body != step.expect:
                        raise Failed(
                            "a wrong reply while measuring capacity: the line answered wrongly under"
                            " load, a bug to report"
                        )
                    done += 1
        finally:
            exchange.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return done / (time.perf_counter() - began)


def _poisson(rate: float, seconds: float, rng: random.Random) -> list[float]:
    times: list[float] = []
    now = rng.expovariate(rate)
    while now < seconds:
        times.append(now)
        now += rng.expovariate(rate)
    return times


def _reasons(port: int) -> dict[str, int]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("ivr_safety_net_answers_total{"):
            labels, value = line.rsplit(" ", 1)
            reason = labels.split('reason="', 1)[1].split('"', 1)[0]
            found[reason] = found.get(reason, 0) + int(float(value))
    return found


def _pinning() -> tuple[str, ...]:
    """taskset arguments that keep the server on one core, when there are two and taskset exists."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ("taskset", "-c", str(SERVER_CPU))
    return ()


def run_one(plan: OverloadPlan, redis_url: str, flow: Flow, steps: Steps | None = None) -> Outcome:
    """Measure one worker's capacity, then give it `factor` times that in arriving conversations."""
    hash_key = secrets.token_hex(32)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = line_env(redis_url, hash_key, base)
    generator = Generator(flow, base, AUTH_TOKEN, hash_key.encode(), seed=plan.seed)
    outcome = Outcome()
    safety_nets = {sms.safety_net(flow).encode(), voice.safety_net(flow, style=VoiceStyle()).encode()}
    with redis.Redis.from_url(redis_url) as admin:
        admin.flushall()
    # A listen backlog as deep as the system allows: Twilio opens a connection per webhook, and a
    # refused connection would hide the queue this run is about.
    steps = steps or Steps("ivr bench --overload", count=2, seconds=0)
    with server("ivr.web.app:create_app", port, 1, env, extra=("--backlog", "4096"), prefix=_pinning()):
        with steps.step("one worker's capacity", plan.capacity_seconds + SETUP_SECONDS):
            warm = generator.conversations(3000, 0)
            capacity = uvloop.run(closed_loop(port, warm, plan.capacity_seconds))
        outcome.capacity_rps = round(capacity, 1)
        outcome.offered_rps = round(plan.factor * capacity, 1)
        mean_steps = sum(len(c) for c in warm) / len(warm)
        rng = random.Random(plan.seed)  # noqa: S311 - arrival times, not secrets
        arrivals = _poisson(outcome.offered_rps / mean_steps, plan.seconds, rng)
        conversations = generator.conversations(len(arrivals), 1_000_000)
        outcome.conversations = len(conversations)
        crowd = Crowd(port, safety_nets, plan, outcome)
        began = time.perf_counter()
        with steps.step(
            f"{plan.factor:g}x that for {plan.seconds:g} s, then the queue drains", 3 * plan.seconds
        ):
            uvloop.run(crowd.arrive(conversations, arrivals))
        elapsed = time.perf_counter() - began
        outcome.seconds_to_drain = round(max(0.0, elapsed - arrivals[-1]), 1) if arrivals else 0.0
        outcome.served_rps = round(outcome.answered_exactly / elapsed, 1)
        ordered = sorted(crowd.latencies) or [0.0]
        outcome.p50_ms = round(ordered[len(ordered) // 2] * 1000, 1)
        outcome.p99_ms = round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1)
        outcome.slowest_ms = round(ordered[-1] * 1000, 1)
        outcome.safety_nets_by_reason = _reasons(port)
    return outcome


def main(plan: OverloadPlan, out: Path | None) -> int:
    """Run the overload measurement and write its figures (exit 1 if anyone lost their place)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a connection per conversation
    if _pinning() and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CLIENT_CPU})
    flow = load_flows(PACKAGED_FLOWS)["muscle-weakness"].bind(emergency_number="911", booking_url=None)
    seconds = plan.capacity_seconds + 3 * plan.seconds + 2 * SETUP_SECONDS
    steps = Steps("ivr bench --overload", count=2, seconds=seconds)
    with steps.running(), private_redis() as redis_url:
        outcome = run_one(plan, redis_url, flow, steps)
    print(json.dumps(asdict(outcome), indent=2), flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        results = {"machine": machine(), "plan": asdict(plan), "outcome": asdict(outcome)}
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}")
    return 1 if outcome.lost_place else 0
