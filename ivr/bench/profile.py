"""Where the line's server time goes: the line under pyinstrument while the benchmark's load runs.

`ivr bench --profile` samples one worker for a few seconds and splits the time it spent handling
requests by who spent it: the ASGI server, the web framework, the Redis client, the twilio library,
this project's code. Standard-library time (asyncio, urllib, json...) goes to the nearest caller
outside the standard library, which is the one that asked for it. The whole profile is also written
as a flame graph: a speedscope file (open it at https://www.speedscope.app, or with `speedscope`).
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

from ivr.bench.harness import (
    AUTH_TOKEN,
    free_port,
    line_env,
    private_redis,
    stop,
    uvicorn_args,
    wait_until_serving,
)
from ivr.bench.load import Generator, drive
from ivr.bench.progress import SETUP_SECONDS, Steps
from ivr.config import PACKAGED_FLOWS
from ivr.flows.flowfile import load_flows
from ivr.ops.failures import Failed

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
        raise Failed("the profile is empty: run it again, with a longer --duration")
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
        raise Failed("no request was sampled: run it again, with a longer --duration")
    return Breakdown(
        seconds_in_requests=total,
        shares={k: v / total for k, v in shares.most_common()},
        functions=[(k.replace(str(Path.cwd()) + "/", ""), v / total) for k, v in inside.most_common(18)],
        modules={k: v / total for k, v in modules.most_common(15)},
    )


def flame_graph(session_path: Path, out: Path) -> Path:
    """The whole profile as a speedscope file (a flame graph per thread, every sample kept)."""
    from pyinstrument import processors  # noqa: PLC0415 - a dev tool, only needed here
    from pyinstrument.renderers import SpeedscopeRenderer  # noqa: PLC0415
    from pyinstrument.session import Session  # noqa: PLC0415

    out.parent.mkdir(parents=True, exist_ok=True)
    # Every frame that took any time: pyinstrument's default hides those under 1% of the whole run,
    # and a run is mostly waiting in the event loop, so the requests would disappear. Its processor
    # that trims pyinstrument's own frames keeps only uvicorn's import under `pyinstrument -m`
    # (pyinstrument 5.1), dropping the whole server: left out.
    renderer = SpeedscopeRenderer(processor_options={"filter_threshold": 0})
    renderer.processors = [
        p for p in renderer.processors if p is not processors.remove_first_pyinstrument_frames_processor
    ]
    out.write_text(renderer.render(Session.load(str(session_path))), encoding="utf-8")
    return out


def profile(
    duration: float = 8.0, connections: int = 8, *, flame: Path | None = None, steps: Steps | None = None
) -> Breakdown:
    """Run the line under pyinstrument (one worker, private Redis), drive the load, read the profile;
    with `flame`, write the flame graph there too."""
    steps = steps or Steps("ivr bench --profile", count=3, seconds=duration + 3 * SETUP_SECONDS)
    flow = load_flows(PACKAGED_FLOWS)["muscle-weakness"].bind(emergency_number="911", booking_url=None)
    hash_key = secrets.token_hex(32)
    with private_redis() as redis_url, tempfile.TemporaryDirectory(prefix="ivr-profile-") as directory:
        out = Path(directory) / "line.pyisession"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, **line_env(redis_url, hash_key, base)}
        profiler = [sys.executable, "-m", "pyinstrument", "-r", "session", "-o", str(out), "-m"]
        command = [*profiler, *uvicorn_args("ivr.web.app:create_app", port)]
        # A session of its own, as the benchmark's servers: stopped here, by SIGINT so that
        # pyinstrument writes its session, whatever stopped the benchmark.
        process = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603 - fixed arguments
        try:
            with steps.step("the line under the profiler: starting", SETUP_SECONDS):
                wait_until_serving(port, process)
                conversations = Generator(flow, base, AUTH_TOKEN, hash_key.encode()).conversations(
                    int(duration * 2000), 0
                )
            with steps.step(f"load for {duration:g} s", duration):
                tally = asyncio.run(
                    drive("127.0.0.1", port, conversations, connections=connections, duration=duration)
                )
            if tally.mismatches or tally.failures:
                raise Failed(
                    f"{tally.mismatches + tally.failures} wrong replies under the profiler: a bug to report"
                )
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # uvicorn stops cleanly; pyinstrument then writes
            try:
                process.wait(timeout=30)
            finally:
                stop(process, group=True)
        with steps.step("reading the profile", SETUP_SECONDS):
            found = breakdown(out)
            if flame is not None:
                flame_graph(out, flame)
        return found


def main(duration: float, connections: int, folder: Path) -> int:
    """Profile one worker of the line under the benchmark's load, print the breakdown, and write
    the flame graph in `folder`."""
    flame = folder / "profile.speedscope.json"
    steps = Steps("ivr bench --profile", count=3, seconds=duration + 2 * SETUP_SECONDS)
    with steps.running():
        result = profile(duration, connections, flame=flame, steps=steps)
    print(f"time handling requests, sampled: {result.seconds_in_requests:.2f} s; by who spent it:")
    for owner, share in result.shares.items():
        print(f"  {share * 100:5.1f}%  {owner}")
    print("this project's own time by module, share of request time (standard-library calls included):")
    for module, share in result.modules.items():
        print(f"  {share * 100:5.1f}%  {module}")
    print("this project's functions, share of request time spent inside them (nested, so not additive):")
    for name, share in result.functions:
        print(f"  {share * 100:5.1f}%  {name}")
    print(f"flame graph: {flame} (open it at https://www.speedscope.app, or with `speedscope {flame}`)")
    return 0
