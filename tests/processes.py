"""`ivr serve` as real processes on real ports, for tests that need the server as deployed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ivr.bench.harness import free_port
from tests.support import AUTH_TOKEN, HASH_KEY


@contextmanager
def ivr_serve(
    redis_url: str, log_path: Path, *, workers: int = 1, public_base_url: str | None = None
) -> Iterator[str]:
    """Starts `ivr serve` and waits until it is ready; yields its base URL; stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_HASH_KEY": HASH_KEY,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": public_base_url or base,
    }
    arguments = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with _serving(arguments, env, base, log_path):
        yield base


@contextmanager
def ivr_serve_local(log_path: Path) -> Iterator[str]:
    """Starts `ivr serve` as on a fresh clone, with nothing configured (local mode), and waits until
    it is ready; yields its base URL; stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    unset = {"TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "IVR_INSECURE_DEV", "REDIS_URL", "PUBLIC_BASE_URL"}
    unset.add("LOG_FORMAT")  # the banner as a person reads it
    env = {k: v for k, v in os.environ.items() if k not in unset}
    # In its log's folder: no .env of the developer's is read.
    with _serving(["--port", str(port)], env, base, log_path, cwd=log_path.parent):
        yield base


@contextmanager
def _serving(
    arguments: list[str], env: dict[str, str], base: str, log_path: Path, *, cwd: Path | None = None
) -> Iterator[None]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [sys.executable, "-m", "ivr.cli", "serve", *arguments],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(process, base, log_path)
            yield
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_ready(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60  # a busy shared machine can take this long to start it
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"ivr serve did not become ready: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)
