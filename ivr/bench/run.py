"""Runs the benchmark: a private Redis, the line and the bare floor as real servers, the load, the figures."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from ivr.bench.harness import AUTH_TOKEN, cpu_seconds, free_port, line_env, machine, private_redis, server
from ivr.bench.load import OUR_NUMBER, Generator, Tally, drive
from ivr.bench.progress import SETUP_SECONDS, Steps
from ivr.config import PACKAGED_FLOWS
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.core.session import Session, encode
from ivr.flows.flowfile import load_flows
from ivr.store.keys import Keys

KEY_KINDS = {"session": "s", "replies": "r", "counter": "n", "tombstone": "x"}
# Where `ivr bench` writes its results unless told otherwise: ignored by git. The figures the docs
# quote are in bench/results/, written there only when asked (--out bench/results/latest.json).
RUNS = Path("bench/runs")


@dataclass(frozen=True)
class Plan:
    """What the benchmark measures: how long, how many connections, populations and workers."""

    duration: float = 10.0
    connections: int = 64
    populations: tuple[int, ...] = (1_000, 10_000, 100_000)
    workers: tuple[int, ...] = (1, 2)
    check: bool = True
    free_text: bool = False  # texters answer no in their own words (see load.Generator.free_text)


SMOKE = Plan(duration=1.5, connections=8, populations=(100, 1_000), workers=(1,))


def measurements(plan: Plan) -> list[tuple[str, int, int]]:
    """Every measurement a plan makes, in order: (target, workers, idle conversations)."""
    planned = []
    for workers in plan.workers:
        for target in ("bare", "line"):
            populations = (
                plan.populations if target == "line" and workers == plan.workers[0] else plan.populations[:1]
            )
            planned += [
                (target, workers, population if target == "line" else 0) for population in populations
            ]
    return planned


def describe(target: str, workers: int, population: int) -> str:
    """A measurement in words, for the progress."""
    what = "the line" if target == "line" else "the bare endpoint"
    idle = f", {population:,} idle conversations" if target == "line" else ""
    return f"{what}, {workers} worker{'s' if workers > 1 else ''}{idle}"


@dataclass(frozen=True)
class RedisUse:
    """Redis work per webhook, from INFO before and after a measurement."""

    redis_round_trips_per_webhook: float  # batches the server read: pipelined commands share one
    redis_script_calls_per_webhook: float
    redis_commands_per_webhook: float
    redis_commands: dict[str, int]


@dataclass(frozen=True)
class KeySizes:
    """Average MEMORY USAGE of a group of conversations' keys, in bytes, in all and by kind."""

    conversations: int
    bytes: int
    session: int
    replies: int
    counter: int
    tombstone: int


@dataclass(frozen=True)
class Memory:
    """Redis memory per conversation, in progress and finished."""

    in_progress: KeySizes
    finished: KeySizes  # what a finished conversation leaves until it expires


@dataclass
class Measurement:
    """One target (the line or the floor) under load for a while."""

    target: str
    workers: int
    connections: int
    active_conversations: int
    requests: int
    conversations_completed: int
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_request: float
    wrong_replies: int
    failed_requests: int
    redis: RedisUse | None = None
    memory: Memory | None = None
    bytes_per_idle_session: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Flat, as bench/results/latest.json has always been written."""
        data = asdict(self)
        data.pop("redis")
        data.pop("memory")
        if self.redis is not None:
            data.update(asdict(self.redis))
        if self.memory is not None:
            data["bytes_per_active_conversation"] = self.memory.in_progress.bytes
            data["memory_by_conversation_state"] = asdict(self.memory)
        if self.bytes_per_idle_session is None:
            data.pop("bytes_per_idle_session")
        return data


@dataclass
class Results:
    """Everything one benchmark run measured, and the figures derived from it."""

    machine: dict[str, object]
    plan: Plan
    runs: list[Measurement] = field(default_factory=list)
    webhooks_per_conversation: float = 0.0  # in the load's mix of texts and calls

    def ratios(self) -> dict[str, float]:
        """The line's throughput over the floor's, per worker count."""
        ratios: dict[str, float] = {}
        for workers in sorted({r.workers for r in self.runs}):
            bare = next((r for r in self.runs if r.target == "bare" and r.workers == workers), None)
            line = next((r for r in self.runs if r.target == "line" and r.workers == workers), None)
            if bare and line and bare.throughput_rps:
                ratios[f"throughput_line_over_bare_{workers}w"] = round(
                    line.throughput_rps / bare.throughput_rps, 3
                )
        return ratios

    def conversation_cost(self) -> dict[str, float]:
        """Server CPU for one whole conversation (opening to outcome) on one worker, and what a
        million conversations take in core-hours."""
        line = next((r for r in self.runs if r.target == "line" and r.workers == 1), None)
        if line is None:
            return {}
        microseconds = line.server_cpu_us_per_request * self.webhooks_per_conversation
        # A million conversations of `microseconds` each take `microseconds` seconds of one core.
        return {
            "cpu_ms_per_conversation": round(microseconds / 1000, 2),
            "core_hours_per_million_conversations": round(microseconds / 3600, 2),
        }

    def to_json(self) -> dict[str, Any]:
        """The results as bench/results/latest.json holds them."""
        return {
            "machine": self.machine,
            "plan": asdict(self.plan),
            "runs": [r.to_json() for r in self.runs],
            "ratios": self.ratios(),
            "webhooks_per_conversation": round(self.webhooks_per_conversation, 2),
            "conversation_cost": self.conversation_cost(),
        }


def populate(client: redis.Redis, flow: Flow, hash_key: bytes, numbers: range) -> None:
    """Idle conversations in Redis, each waiting on a question, as a busy line would hold."""
    pseudonyms = Pseudonyms(hash_key)
    questions = flow.question_order()
    with client.pipeline(transaction=False) as pipe:
        for i in numbers:
            depth = i % len(questions)
            session = Session(
                flow=flow.id,
                digest=flow.digest,
                channel="sms",
                lang="en",
                node=questions[depth],
                started=int(time.time()),
                turns=depth,
                answers=tuple((q, False) for q in questions[:depth]),
            )
            keys = Keys("m", pseudonyms.sms_conversation(OUR_NUMBER, f"+1999{i:07d}"))
            pipe.set(keys.session, encode(session), ex=3600)
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()


def redis_counts(client: redis.Redis) -> dict[str, int]:
    """Calls per command (INFO commandstats; commands a script runs count too) and the socket reads
    the server processed (INFO stats): each read is one batch a client sent, so one round trip."""
    stats: dict[str, Any] = client.info("commandstats")
    counts = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    counts["_reads"] = int(client.info("stats")["total_reads_processed"])
    return counts


def redis_per_webhook(before: dict[str, int], after: dict[str, int], requests: int) -> RedisUse:
    """Round trips and commands per webhook from two snapshots, leaving out the benchmark's own
    INFO and CONFIG calls (two INFO reads per snapshot)."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    own = {"info", "config|resetstat", "config"}
    commands = {k: v for k, v in delta.items() if v and k not in own and not k.startswith("_")}
    n = max(requests, 1)
    return RedisUse(
        redis_round_trips_per_webhook=round(max(delta["_reads"] - 2, 0) / n, 3),
        redis_script_calls_per_webhook=round(sum(commands.get(k, 0) for k in ("evalsha", "eval")) / n, 3),
        redis_commands_per_webhook=round(sum(commands.values()) / n, 3),
        redis_commands=commands,
    )


def conversation_bytes(client: redis.Redis, generator: Generator, numbers: range) -> Memory:
    """Memory (MEMORY USAGE) of the keys the conversations just driven hold: for those still in
    progress when the clock stopped, and what finished ones leave until it expires; by kind of
    key too (session, replies to texts, text counter, finished-call tombstone)."""
    groups: dict[str, list[dict[str, int]]] = {"in_progress": [], "finished": []}
    for number in numbers:
        if number % 2:  # a call: keyed by its CallSid
            keys = Keys("v", f"CA{number:032x}")
        else:
            keys = Keys("m", generator.pseudonyms.sms_conversation(OUR_NUMBER, f"+1556{number:07d}"))
        base = keys.session.removesuffix(":s")
        with client.pipeline(transaction=False) as pipe:
            for suffix in KEY_KINDS.values():
                pipe.memory_usage(f"{base}:{suffix}")
            sizes = dict(zip(KEY_KINDS, (int(v or 0) for v in pipe.execute()), strict=True))
        if any(sizes.values()):
            groups["in_progress" if sizes["session"] else "finished"].append(sizes)
    return Memory(_average(groups["in_progress"]), _average(groups["finished"]))


def _average(found: list[dict[str, int]]) -> KeySizes:
    n = max(len(found), 1)
    by_kind = {kind: round(sum(s[kind] for s in found) / n) for kind in KEY_KINDS}
    return KeySizes(len(found), round(sum(sum(s.values()) for s in found) / n), **by_kind)


def idle_session_bytes(admin: redis.Redis) -> int:
    """Memory of an idle session key, as MEMORY USAGE reports it, averaged over a sample."""
    sample = list(admin.scan_iter(match="ivr:{m:*}:s", count=1000))[:500]
    if not sample:
        return 0
    return round(sum(int(admin.memory_usage(k) or 0) for k in sample) / len(sample))


def measure(
    tally: Tally, cpu: float, *, target: str, workers: int, connections: int, active: int
) -> Measurement:
    """The figures of one measurement from its tally and the server's CPU time."""
    seconds = tally.seconds or 1.0
    return Measurement(
        target=target,
        workers=workers,
        connections=connections,
        active_conversations=active,
        requests=tally.requests,
        conversations_completed=tally.conversations,
        throughput_rps=round(tally.requests / seconds, 1),
        p50_ms=round(tally.percentile(0.50) * 1000, 2),
        p99_ms=round(tally.percentile(0.99) * 1000, 2),
        server_cpu_us_per_request=round(cpu / max(tally.requests, 1) * 1e6, 1),
        wrong_replies=tally.mismatches,
        failed_requests=tally.failures,
    )


@dataclass
class Bench:
    """One benchmark run's shared parts: the flow, the key, the private Redis, the numbering."""

    plan: Plan
    flow: Flow
    hash_key: str
    redis_url: str
    admin: redis.Redis
    next_number: int = 0
    steps: Steps | None = None

    def target(self, target: str, workers: int) -> list[Measurement]:
        """The line (at each population of idle conversations) or the floor, on a fresh server."""
        plan = self.plan
        populations = (
            plan.populations if target == "line" and workers == plan.workers[0] else plan.populations[:1]
        )
        self.admin.flushall()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        factory = "ivr.bench.bare:create_bare_app" if target == "bare" else "ivr.web.app:create_app"
        generator = Generator(
            self.flow,
            base,
            AUTH_TOKEN,
            self.hash_key.encode(),
            seed=self.next_number,
            free_text=plan.free_text,
        )
        measurements = []
        populated = 0
        with server(factory, port, workers, line_env(self.redis_url, self.hash_key, base)) as process:
            for population in populations:
                label = describe(target, workers, population if target == "line" else 0)
                seconds = plan.duration + SETUP_SECONDS
                with self.steps.step(label, seconds) if self.steps else nullcontext():
                    populate(self.admin, self.flow, self.hash_key.encode(), range(populated, population))
                    populated = population
                    measurements.append(
                        self._one(
                            target, workers, population, port=port, pid=process.pid, generator=generator
                        )
                    )
        return measurements

    def _one(
        self, target: str, workers: int, population: int, *, port: int, pid: int, generator: Generator
    ) -> Measurement:
        plan = self.plan
        # Enough for 8,000 requests a second, above what one process has been seen to take.
        count = int(plan.duration * 8000 / 6) + plan.connections
        conversations = generator.conversations(count, self.next_number)
        counts_before = redis_counts(self.admin)
        cpu_before = cpu_seconds(pid)
        check = plan.check and target == "line"
        tally = asyncio.run(
            drive(
                "127.0.0.1",
                port,
                conversations,
                connections=plan.connections,
                duration=plan.duration,
                check=check,
            )
        )
        cpu = cpu_seconds(pid) - cpu_before
        active = population if target == "line" else 0
        figures = measure(
            tally, cpu, target=target, workers=workers, connections=plan.connections, active=active
        )
        if target == "line":
            figures.redis = redis_per_webhook(counts_before, redis_counts(self.admin), tally.requests)
            used = range(self.next_number, self.next_number + tally.started)
            figures.memory = conversation_bytes(self.admin, generator, used)
            figures.bytes_per_idle_session = idle_session_bytes(self.admin)
        self.next_number += len(conversations)
        print(_row(figures), flush=True)
        return figures


def run(plan: Plan, steps: Steps | None = None) -> Results:
    """Measure the floor and the line, each worker count and population in turn."""
    flow = load_flows(PACKAGED_FLOWS)["muscle-weakness"].bind(emergency_number="911", booking_url=None)
    results = Results(machine(), plan)
    mix = Generator(flow, "http://x", AUTH_TOKEN, b"k", seed=0).conversations(2000, 0)
    results.webhooks_per_conversation = sum(len(c) for c in mix) / len(mix)
    with private_redis() as redis_url:
        admin = redis.Redis.from_url(redis_url)
        bench = Bench(plan, flow, secrets.token_hex(32), redis_url, admin, steps=steps)
        for workers in plan.workers:
            for target in ("bare", "line"):
                results.runs.extend(bench.target(target, workers))
    return results


HEADER = (
    f"{'target':<6} {'workers':>7} {'active':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'cpu us/req':>11} {'trips/req':>10} {'B/conv':>7} {'wrong':>6}"
)


def _row(r: Measurement) -> str:
    trips = "-" if r.redis is None else f"{r.redis.redis_round_trips_per_webhook:.2f}"
    size = "-" if r.memory is None else str(r.memory.in_progress.bytes)
    return (
        f"{r.target:<6} {r.workers:>7} {r.active_conversations:>8} {r.throughput_rps:>9.0f} "
        f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.server_cpu_us_per_request:>11.0f} {trips:>10} "
        f"{size:>7} {r.wrong_replies + r.failed_requests:>6}"
    )


def main(plan: Plan, out: Path | None) -> int:
    """Run the benchmark, print a row per measurement, and write the results (exit 1 on a wrong reply)."""
    planned = measurements(plan)
    seconds = len(planned) * (plan.duration + SETUP_SECONDS)
    steps = Steps("ivr bench", count=len(planned), seconds=seconds, stream=sys.stderr)
    with steps.running():
        print(HEADER, flush=True)
        results = run(plan, steps)
    print("ratios:", json.dumps(results.ratios()), "cost:", json.dumps(results.conversation_cost()))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results.to_json(), indent=2) + "\n")
        print(f"wrote {out}")
    wrong = sum(r.wrong_replies + r.failed_requests for r in results.runs)
    return 1 if wrong else 0
