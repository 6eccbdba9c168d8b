"""The benchmark's processes: a private redis-server, uvicorn serving the line or the floor, free ports."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from ivr.ops.failures import Failed

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # noqa: S105 - the benchmark's own throwaway token


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the benchmark's own, so memory and command counts are the line's alone."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Failed("ivr bench needs redis-server on PATH: install Redis (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as directory:
        process = subprocess.Popen(  # noqa: S603 - redis-server from PATH, fixed arguments
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(process)


def uvicorn_args(factory: str, port: int, workers: int = 1) -> list[str]:
    """The server settings every measurement uses (after `python -m`): uvloop, httptools, no access log."""
    return [
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def line_env(redis_url: str, hash_key: str, base: str) -> dict[str, str]:
    """The line's settings for a measurement: the benchmark's token and key, its private Redis."""
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_HASH_KEY": hash_key,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": base,
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def server(
    factory: str,
    port: int,
    workers: int,
    env: dict[str, str],
    *,
    extra: tuple[str, ...] = (),
    prefix: tuple[str, ...] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """uvicorn with the same settings for the line and for the floor (plus `extra` arguments, and
    a `prefix` command such as taskset)."""
    command = [*prefix, sys.executable, "-m", *uvicorn_args(factory, port, workers), *extra]
    # A session of its own: a Ctrl-C at the terminal reaches the benchmark, which stops the server
    # here, after the load has stopped, rather than the server dying under the load.
    process = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)  # noqa: S603
    try:
        wait_until_serving(port, process)
        yield process
    finally:
        stop(process, group=True)


def stop(process: subprocess.Popen[bytes], *, group: bool = False, timeout: float = 15) -> None:
    """Stop a process the benchmark started, and with `group` every process of its session (uvicorn's
    workers): SIGTERM, then SIGKILL if it has not ended within `timeout` seconds. Safe to call on a
    process that has already ended."""

    def signal_it(signum: int) -> None:
        try:
            if group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
        except ProcessLookupError:
            pass

    if process.poll() is None:
        signal_it(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            signal_it(signal.SIGKILL)
            process.wait(timeout=timeout)
    if group:  # the workers may outlive their parent by a moment
        signal_it(signal.SIGTERM)


def wait_until_serving(
    port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    """Return once something answers HTTP on `port`; fail, in words, if nothing does within
    `timeout` or the server has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise Failed(
                f"the server for port {port} exited with status {process.returncode}: see its output above"
            )
        try:
            httpx.post(f"http://127.0.0.1:{port}/sms", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise Failed(
        f"nothing answered on port {port} within {timeout:g} s: the machine may be too busy; try again"
    )


def cpu_seconds(root: int) -> float:
    """User and system CPU of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid, pgid = int(entry.name), int(fields[1]), int(fields[2])
        if root in {pid, ppid, pgid}:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
