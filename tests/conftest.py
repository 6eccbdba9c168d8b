"""Fixtures shared by all tiers: a real Redis for integration and end-to-end tests, and the app."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.simulator.twilio_sim import TwilioSimulator, in_process
from ivr.store.glide_redis import GlideRedis
from ivr.web.app import create_app
from tests.leaks import open_sockets
from tests.support import AUTH_TOKEN, HASH_KEY, PUBLIC_BASE_URL

# Tests use their own logical database so they never touch a developer's data in db 0.
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/13"
MAX_REDIS_DB = 15  # redis-server's 16 databases by default


def redis_test_url() -> str:
    """The test Redis; with tests spread over processes (pytest -n), a logical database each, so
    that one process's FLUSHDB never empties another's."""
    url = os.environ.get("IVR_TEST_REDIS_URL") or DEFAULT_TEST_REDIS
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    number = int(db or 0) + int(worker[2:])
    if number > MAX_REDIS_DB:
        raise RuntimeError(f"too many test processes for the databases after {db}: use fewer")
    return f"{base}/{number}"


@pytest.fixture(scope="session", autouse=True)
def glide_core_started() -> None:
    """valkey-glide's core starts once per process and keeps two sockets of its own (its runtime's,
    not a connection) for the life of the process: started before any test counts its sockets."""

    async def start() -> None:
        client = GlideRedis.from_url("redis://127.0.0.1:1/0", timeout=0.1)
        await client._client()
        await client.aclose()

    asyncio.run(start())


@pytest.fixture(autouse=True)
def no_socket_left_open(glide_core_started: None) -> Iterator[None]:
    """Every test closes what it opened: a socket still open after the test and its fixtures
    (an app's Redis pool, an HTTP client, a connection abandoned by a cancelled request) fails it,
    here, rather than surfacing later as a warning in whichever test runs next."""
    before = open_sockets()
    yield
    left = {}
    for _ in range(20):  # a closing transport may need a moment, and a cycle a collection
        left = {inode: peer for inode, peer in open_sockets().items() if inode not in before}
        if not left:
            return
        gc.collect()
        time.sleep(0.01)
    pytest.fail(f"the test left {len(left)} socket(s) open: {sorted(set(left.values()))}")


def assert_no_tasks_left() -> None:
    """Nothing the app started is still running on this event loop."""
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not pending, f"tasks left running: {[t.get_coro() for t in pending]}"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A real Redis, emptied before the test. A missing server fails loudly rather than skipping."""
    url = redis_test_url()
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        await client.ping()
    except Exception as exc:  # any failure to connect is reported the same way
        await client.aclose()
        pytest.fail(f"Redis is not reachable at {url} ({type(exc).__name__}); `make test` starts one")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "twilio_auth_token": AUTH_TOKEN,
        "ivr_hash_key": HASH_KEY,
        "public_base_url": PUBLIC_BASE_URL,
        "redis_url": redis_test_url(),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[TwilioSimulator]:
    """An app built as in production (its own Redis client and pool), with Twilio's side posting
    signed requests into it in this process; the app's lifespan runs around it."""
    async with serving_app(create_app(settings)) as simulator:
        yield simulator


@asynccontextmanager
async def serving_app(app: FastAPI) -> AsyncIterator[TwilioSimulator]:
    """Twilio's side posting into `app`, with its lifespan around it; nothing may be left running."""
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio
    assert_no_tasks_left()


@pytest.fixture
def app(settings: Settings, redis: Redis) -> FastAPI:
    """The app as production builds it; `redis` (a separate client) empties the database first."""
    return create_app(settings)


@pytest.fixture
async def twilio(app: FastAPI, caplog: pytest.LogCaptureFixture) -> AsyncIterator[TwilioSimulator]:
    """Twilio's side of the webhooks, posting signed requests into the app in this process.

    A webhook that fails inside still answers with the safety net, which a test could mistake for
    a reply; so any error the app logs fails the test.
    """
    caplog.set_level(logging.WARNING, logger="ivr")
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio
    assert_no_tasks_left()
    failures = [
        r
        for r in caplog.records
        if r.name.startswith("ivr") and r.getMessage().startswith("webhook answered")
    ]
    errors = [r for r in caplog.records if r.name.startswith("ivr") and r.levelno >= logging.ERROR]
    assert not failures + errors, (
        f"the app failed: {[(r.getMessage(), r.__dict__.get('reason')) for r in failures + errors]}"
    )
