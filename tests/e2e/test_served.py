"""`ivr serve` as a real process on a real port and a real Redis, answering signed webhooks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from ivr.twilio_sim import TwilioSimulator
from tests.conftest import redis_test_url
from tests.support import AUTH_TOKEN, HASH_KEY, OUR_NUMBER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(redis: Redis, tmp_path: Path) -> Iterator[str]:
    """Starts `ivr serve` with two workers and waits until it is ready; stops it afterwards."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_HASH_KEY": HASH_KEY,
        "REDIS_URL": redis_test_url(),
        "PUBLIC_BASE_URL": base,
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [
            sys.executable,
            "-m",
            "ivr.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = (tmp_path / "serve.log").read_text()
                pytest.fail(f"ivr serve did not become ready: {error[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture
async def remote(served: str) -> AsyncIterator[TwilioSimulator]:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        yield TwilioSimulator(client, AUTH_TOKEN, served)


async def test_the_served_line_walks_a_text_conversation_to_each_outcome(remote: TwilioSimulator) -> None:
    """Over real HTTP with two workers: an emergency on one number, an appointment on another."""
    [first] = await remote.text("hi", sender="+15550001", to=OUR_NUMBER)
    assert "call 911 now" in first
    [emergency] = await remote.text("yes", sender="+15550001", to=OUR_NUMBER)
    assert emergency.startswith("Call 911 now.")
    await remote.text("hi", sender="+15550002", to=OUR_NUMBER)
    for _ in range(7):
        replies = await remote.text("no", sender="+15550002", to=OUR_NUMBER)
    assert replies[0].startswith("Please make an appointment")


async def test_the_served_line_walks_a_call_to_each_outcome(remote: TwilioSimulator) -> None:
    """Over real HTTP: one call pressing 1 hears the emergency outcome, one pressing 2s the appointment."""
    call = remote.call(caller="+15550003", to=OUR_NUMBER)
    await call.start()
    await call.press("1")
    assert (await call.press("1")).says[0].startswith("Hang up and call 911 now.")
    call = remote.call(caller="+15550004", to=OUR_NUMBER)
    await call.start()
    await call.press("1")
    for _ in range(7):
        spoken = await call.press("2")
    assert spoken.says[0].startswith("Please make an appointment")
    assert spoken.hangup


async def test_the_served_line_refuses_unsigned_requests(served: str) -> None:
    """The real server answers 403 to a webhook without a valid signature."""
    async with httpx.AsyncClient(base_url=served) as client:
        response = await client.post(
            "/sms",
            content="From=%2B1555&To=%2B1666&Body=hi",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 403
