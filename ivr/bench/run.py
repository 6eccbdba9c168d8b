"""Runs the benchmark: a private Redis, the line and the bare floor as real servers, the load, the figures."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from ivr.bench.harness import AUTH_TOKEN, cpu_seconds, free_port, line_env, machine, private_redis, server
from ivr.bench.load import OUR_NUMBER, Generator, Tally, drive
from ivr.config import PACKAGED_FLOWS
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.core.session import Session, encode
from ivr.flowfile import load_flows
from ivr.store.keys import Keys


@dataclass(frozen=True)
class Plan:
    duration: float = 10.0
    connections: int = 64
    populations: tuple[int, ...] = (1_000, 10_000, 100_000)
    workers: tuple[int, ...] = (1, 2)
    check: bool = True


SMOKE = Plan(duration=1.5, connections=8, populations=(100, 1_000), workers=(1,))


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


def redis_per_webhook(before: dict[str, int], after: dict[str, int], requests: int) -> dict[str, Any]:
    """Round trips and commands per webhook from two snapshots, leaving out the benchmark's own
    INFO and CONFIG calls (two INFO reads per snapshot)."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    own = {"info", "config|resetstat", "config"}
    commands = {k: v for k, v in delta.items() if v and k not in own and not k.startswith("_")}
    n = max(requests, 1)
    return {
        "redis_round_trips_per_webhook": round(max(delta["_reads"] - 2, 0) / n, 3),
        "redis_script_calls_per_webhook": round(sum(commands.get(k, 0) for k in ("evalsha", "eval")) / n, 3),
        "redis_commands_per_webhook": round(sum(commands.values()) / n, 3),
        "redis_commands": commands,
    }


def conversation_bytes(client: redis.Redis, generator: Generator, numbers: range) -> dict[str, Any]:
    """Memory (MEMORY USAGE) of the keys the conversations just driven hold: for those still in
    progress when the clock stopped, and what finished ones leave until it expires; by kind of
    key too (session, replies to texts, text counter, finished-call tombstone)."""
    kinds = {"session": "s", "replies": "r", "counter": "n", "tombstone": "x"}
    groups: dict[str, list[dict[str, int]]] = {"in_progress": [], "finished": []}
    for number in numbers:
        if number % 2:  # a call: keyed by its CallSid
            keys = Keys("v", f"CA{number:032x}")
        else:
            keys = Keys("m", generator.pseudonyms.sms_conversation(OUR_NUMBER, f"+1556{number:07d}"))
        base = keys.session.removesuffix(":s")
        with client.pipeline(transaction=False) as pipe:
            for suffix in kinds.values():
                pipe.memory_usage(f"{base}:{suffix}")
            sizes = dict(zip(kinds, (int(v or 0) for v in pipe.execute()), strict=True))
        if any(sizes.values()):
            groups["in_progress" if sizes["session"] else "finished"].append(sizes)
    summary: dict[str, Any] = {}
    for group, found in groups.items():
        n = max(len(found), 1)
        summary[group] = {
            "conversations": len(found),
            "bytes": round(sum(sum(s.values()) for s in found) / n),
            **{kind: round(sum(s[kind] for s in found) / n) for kind in kinds},
        }
    return summary


def measure(tally: Tally, cpu: float) -> dict[str, Any]:
    seconds = tally.seconds or 1.0
    return {
        "requests": tally.requests,
        "conversations_completed": tally.conversations,
        "throughput_rps": round(tally.requests / seconds, 1),
        "p50_ms": round(tally.percentile(0.50) * 1000, 2),
        "p99_ms": round(tally.percentile(0.99) * 1000, 2),
        "server_cpu_us_per_request": round(cpu / max(tally.requests, 1) * 1e6, 1),
        "wrong_replies": tally.mismatches,
        "failed_requests": tally.failures,
    }


def run(plan: Plan) -> dict[str, Any]:
    flow = load_flows(PACKAGED_FLOWS)["muscle-weakness"]
    bound = flow.bind(emergency_number="911", booking_url=None)
    hash_key = secrets.token_hex(32)
    results: dict[str, Any] = {
        "machine": machine(),
        "plan": plan.__dict__,
        "runs": [],
    }
    next_number = 0
    with private_redis() as redis_url:
        admin = redis.Redis.from_url(redis_url)
        for workers in plan.workers:
            for target in ("bare", "line"):
                populations = (
                    plan.populations
                    if target == "line" and workers == plan.workers[0]
                    else plan.populations[:1]
                )
                admin.flushall()
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                env = line_env(redis_url, hash_key, base)
                factory = "ivr.bench.bare:create_bare_app" if target == "bare" else "ivr.web.app:create_app"
                generator = Generator(bound, base, AUTH_TOKEN, hash_key.encode(), seed=next_number)
                populated = 0
                with server(factory, port, workers, env) as process:
                    for population in populations:
                        populate(admin, flow, hash_key.encode(), range(populated, population))
                        populated = population
                        # Enough for 8,000 requests a second, above what one process has been seen to take.
                        count = int(plan.duration * 8000 / 6) + plan.connections
                        conversations = generator.conversations(count, next_number)
                        before_memory = int(admin.info("memory")["used_memory"])
                        counts_before = redis_counts(admin)
                        cpu_before = cpu_seconds(process.pid)
                        tally = asyncio.run(
                            drive(
                                "127.0.0.1",
                                port,
                                conversations,
                                connections=plan.connections,
                                duration=plan.duration,
                                check=plan.check and target == "line",
                            )
                        )
                        cpu = cpu_seconds(process.pid) - cpu_before
                        figures = measure(tally, cpu)
                        if target == "line":
                            after = redis_counts(admin)
                            figures.update(redis_per_webhook(counts_before, after, tally.requests))
                        figures.update(
                            target=target,
                            workers=workers,
                            connections=plan.connections,
                            active_conversations=population if target == "line" else 0,
                        )
                        if target == "line":
                            used = range(next_number, next_number + tally.started)
                            sizes = conversation_bytes(admin, generator, used)
                            figures["bytes_per_active_conversation"] = sizes["in_progress"]["bytes"]
                            figures["memory_by_conversation_state"] = sizes
                            figures["bytes_per_idle_session"] = round(
                                _idle_bytes(admin, before_memory, population)
                            )
                        next_number += len(conversations)
                        results["runs"].append(figures)
                        print(_row(figures), flush=True)
    results["ratios"] = _ratios(results["runs"])
    return results


def _idle_bytes(admin: redis.Redis, _before: int, population: int) -> float:
    """Memory of an idle session key, as MEMORY USAGE reports it, averaged over a sample."""
    sample = list(admin.scan_iter(match="ivr:{m:*}:s", count=1000))[:500]
    if not sample or not population:
        return 0.0
    return sum(int(admin.memory_usage(k) or 0) for k in sample) / len(sample)


def _ratios(runs: list[dict[str, Any]]) -> dict[str, float]:
    ratios: dict[str, float] = {}
    for workers in sorted({r["workers"] for r in runs}):
        bare = next((r for r in runs if r["target"] == "bare" and r["workers"] == workers), None)
        line = next((r for r in runs if r["target"] == "line" and r["workers"] == workers), None)
        if bare and line and bare["throughput_rps"]:
            ratios[f"throughput_line_over_bare_{workers}w"] = round(
                line["throughput_rps"] / bare["throughput_rps"], 3
            )
    return ratios


HEADER = (
    f"{'target':<6} {'workers':>7} {'active':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'cpu us/req':>11} {'trips/req':>10} {'B/conv':>7} {'wrong':>6}"
)


def _row(r: dict[str, Any]) -> str:
    trips = r.get("redis_round_trips_per_webhook")
    calls = "-" if trips is None else f"{trips:.2f}"
    size = r.get("bytes_per_active_conversation", "-")
    return (
        f"{r['target']:<6} {r['workers']:>7} {r['active_conversations']:>8} {r['throughput_rps']:>9.0f} "
        f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['server_cpu_us_per_request']:>11.0f} {calls:>10} "
        f"{size!s:>7} {r['wrong_replies'] + r['failed_requests']:>6}"
    )


def main(plan: Plan, out: Path | None) -> int:
    print(HEADER, flush=True)
    results = run(plan)
    print("ratios:", json.dumps(results["ratios"]))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}")
    wrong = sum(r["wrong_replies"] + r["failed_requests"] for r in results["runs"])
    return 1 if wrong else 0
