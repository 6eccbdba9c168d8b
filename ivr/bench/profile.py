"""Where the line's server time goes: the line under pyinstrument while the benchmark's load runs.

`ivr bench --profile` samples one worker for a few seconds and splits the time it spent handling
requests by who spent it: the ASGI server, the web framework, the Redis client, the twilio library,
this project's code. Standard-library time (asyncio, urllib, json...) goes to the nearest caller
outside the standard library, which is the one that asked for it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.bench.harness import AUTH_TOKEN, free_port, line_env, private_redis, uvicorn_args, wait_until_serving
from ivr.bench.load import Generator, drive
from ivr.config import PACKAGED_FLOWS
from ivr.flowfile import load_flows

OWNERS = {
    "uvicorn": "ASGI server (uvicorn, httptools)",
    "starlette": "web framework (Starlette, FastAPI)",
    "fastapi": "web framework (Starlette, FastAPI)",
    "redis": "Redis client (redis-py)",
    "twilio": "twilio library (signature)",
    "prometheus_client": "metrics (prometheus-client)",
    "ivr": "this project (engine, service, store, web)",
}
REQUEST_ROOT = "run_asgi"  # uvicorn's coroutine for one request: everything from bytes in to bytes out


@dataclass(frozen=True)
class Breakdown:
    """Where request time went: the share per owner, and the project's busiest functions."""

    seconds_in_requests: float
    shares: dict[str, float]
    functions: list[tuple[str, float]]  # the project's and libraries' functions with most time inside
    modules: dict[str, float]  # the project's own time, by module (standard-library time included)


def _owner(path: str | None) -> str | None:
    if not path:
        return None
    if "/ivr/" in path and "site-packages" not in path:
        return OWNERS["ivr"]
    if "site-packages/" in path:
        package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return OWNERS.get(package, f"other library ({package})")
    return None  # the standard library or a builtin: charged to its caller


def breakdown(session_path: Path) -> Breakdown:
    """Read a pyinstrument session and charge each sample to the library that spent it."""
    from pyinstrument.session import Session  # noqa: PLC0415 - a dev tool, only needed here

    root = Session.load(str(session_path)).root_frame()
    if root is None:
        raise SystemExit("the profile is empty")
    shares: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    total = 0.0

    def walk(frame: Any, owner: str, in_request: bool, seen: frozenset[str], module: str = "") -> None:
        nonlocal total
        in_request = in_request or frame.function == REQUEST_ROOT
        owner = _owner(frame.file_path) or owner
        if owner == OWNERS["ivr"] and frame.file_path and "/ivr/" in frame.file_path:
            module = "ivr/" + frame.file_path.rsplit("/ivr/", 1)[1]
        own = frame.time - sum(child.time for child in frame.children)
        if in_request:
            shares[owner] += own
            total += own
            if owner == OWNERS["ivr"]:
                modules[module] += own
            name = f"{frame.function} ({(frame.file_path or '?').rsplit('site-packages/', 1)[-1]})"
            if name not in seen and frame.file_path and "/ivr/" in frame.file_path:
                inside[name] += frame.time
            seen = seen | {name}
        for child in frame.children:
            walk(child, owner, in_request, seen, module)

    walk(root, "ASGI server (uvicorn, httptools)", False, frozenset())
    if not total:
        raise SystemExit("no request was sampled")
    return Breakdown(
        seconds_in_requests=total,
        shares={k: v / total for k, v in shares.most_common()},
        functions=[(k.replace(str(Path.cwd()) + "/", ""), v / total) for k, v in inside.most_common(18)],
        modules={k: v / total for k, v in modules.most_common(15)},
    )


def profile(duration: float = 8.0, connections: int = 8) -> Breakdown:
    """Run the line under pyinstrument (one worker, private Redis), drive the load, read the profile."""

    flow = load_flows(PACKAGED_FLOWS)["muscle-weakness"].bind(emergency_number="911", booking_url=None)
    hash_key = secrets.token_hex(32)
    with private_redis() as redis_url, tempfile.TemporaryDirectory(prefix="ivr-profile-") as directory:
        out = Path(directory) / "line.pyisession"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, **line_env(redis_url, hash_key, base)}
        profiler = [sys.executable, "-m", "pyinstrument", "-r", "session", "-o", str(out), "-m"]
        command = [*profiler, *uvicorn_args("ivr.web.app:create_app", port)]
        process = subprocess.Popen(command, env=env)  # noqa: S603 - this interpreter, fixed arguments
        try:
            wait_until_serving(port)
            conversations = Generator(flow, base, AUTH_TOKEN, hash_key.encode()).conversations(
                int(duration * 2000), 0
            )
            tally = asyncio.run(
                drive("127.0.0.1", port, conversations, connections=connections, duration=duration)
            )
            if tally.mismatches or tally.failures:
                raise SystemExit(f"wrong replies under the profiler: {tally.mismatches + tally.failures}")
        finally:
            process.send_signal(signal.SIGINT)  # uvicorn stops cleanly; pyinstrument then writes
            process.wait(timeout=30)
        return breakdown(out)


def main(duration: float, connections: int) -> int:
    """Profile one worker of the line under the benchmark's load and print the breakdown."""
    result = profile(duration, connections)
    print(f"time handling requests, sampled: {result.seconds_in_requests:.2f} s; by who spent it:")
    for owner, share in result.shares.items():
        print(f"  {share * 100:5.1f}%  {owner}")
    print("this project's own time by module, share of request time (standard-library calls included):")
    for module, share in result.modules.items():
        print(f"  {share * 100:5.1f}%  {module}")
    print("this project's functions, share of request time spent inside them (nested, so not additive):")
    for name, share in result.functions:
        print(f"  {share * 100:5.1f}%  {name}")
    return 0
