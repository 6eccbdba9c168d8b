"""The lean Redis client against real redis-server processes: every reply to its own command,
scripts, transactions, a password and a database, a unix socket, and a server killed or stalled."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ivr.store.lean import LeanRedis
from tests.redis_servers import RedisServer

TIMEOUT = 0.5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(tmp_path / "redis").start(appendonly=False)
    yield redis_server
    redis_server.stop()


@pytest.fixture
async def lean(server: RedisServer) -> AsyncIterator[LeanRedis]:
    client = LeanRedis.from_url(server.url, timeout=TIMEOUT)
    yield client
    await client.aclose()


async def test_commands_answer_as_redis_py_does(lean: LeanRedis) -> None:
    """PING, SET with expiry, GET, EXISTS, DEL and a stream read give redis-py's return values."""
    assert await lean.ping() is True
    assert await lean.set("k", b"v", ex=60) is True
    assert await lean.get("k") == b"v"
    assert 0 < await lean.execute_command("TTL", "k") <= 60
    assert await lean.set("p", "w", px=5000) is True
    assert await lean.exists("k", "p", "absent") == 2
    assert await lean.delete("k", "absent") == 1
    assert await lean.get("k") is None
    async with lean.pipeline(transaction=True) as pipe:
        pipe.xadd("s", {"a": "1"}, minid=0, approximate=False)
        pipe.xadd("s", {"b": "2"})
        pipe.pexpire("s", 60_000)
        added_a, added_b, expiring = await pipe.execute()
    assert expiring == 1
    entries = await lean.xrange("s", count=10)
    assert [(entry_id, fields) for entry_id, fields in entries] == [
        (added_a, {b"a": b"1"}),
        (added_b, {b"b": b"2"}),
    ]


async def test_a_script_is_loaded_once_then_called_by_its_digest(
    lean: LeanRedis, server: RedisServer
) -> None:
    """The first call finds the script unknown (NOSCRIPT) and sends it whole; later calls by SHA1."""
    with server.client() as admin:
        admin.script_flush()
        admin.config_resetstat()
    script = lean.register_script("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}")
    assert await script(keys=["a"], args=[b"x", 41]) == [b"a", b"x", 42]
    assert await script(keys=["b"], args=["y", 1]) == [b"b", b"y", 2]
    with server.client() as admin:
        stats = admin.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 2  # the first one refused, the second one served
    assert stats["cmdstat_eval"]["calls"] == 1


async def test_an_error_reply_is_raised_and_the_connection_stays_in_step(lean: LeanRedis) -> None:
    """A command Redis refuses raises ResponseError; the commands around it get their own replies."""
    await lean.set("n", b"not a number")
    results = await asyncio.gather(
        lean.get("n"), lean.execute_command("INCR", "n"), lean.ping(), return_exceptions=True
    )
    assert results[0] == b"not a number"
    assert isinstance(results[1], ResponseError)
    assert results[2] is True
    async with lean.pipeline() as pipe:
        pipe.set("t", b"1")
        pipe._queue("NOT-A-COMMAND")
        with pytest.raises(ResponseError):
            await pipe.execute()
    assert await lean.get("t") is None  # the transaction was refused as a whole


async def test_thousands_of_concurrent_commands_each_get_their_own_reply(server: RedisServer) -> None:
    """Commands of many tasks share writes and reads; each still gets exactly its reply. (What is
    tested is the order of replies, not speed: the client waits long enough for 3,000 replies on a
    machine whose cores other tests keep busy; 0.5 s was not always enough there.)"""
    lean = LeanRedis.from_url(server.url, timeout=10)
    try:
        async with lean.pipeline() as pipe:
            for i in range(50):
                pipe.set(f"key:{i}", str(i).encode(), ex=60)
            await pipe.execute()

        async def read(i: int) -> bytes | None:
            await asyncio.sleep(0)
            return await lean.get(f"key:{i % 50}")

        replies = await asyncio.gather(*(read(i) for i in range(3000)))
        assert replies == [str(i % 50).encode() for i in range(3000)]
    finally:
        await lean.aclose()


async def test_a_password_and_a_database_from_the_url(tmp_path: Path) -> None:
    """AUTH and SELECT come from the URL: writes land in the named database; a wrong password fails."""
    server = RedisServer(tmp_path / "secured", password="s3cret-pass").start(appendonly=False)
    client = LeanRedis.from_url(f"redis://:s3cret-pass@127.0.0.1:{server.port}/3", timeout=TIMEOUT)
    wrong = LeanRedis.from_url(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout=TIMEOUT)
    try:
        await client.set("here", b"1")
        with server.client() as admin:
            admin.select(3)
            assert admin.get("here") == b"1"
        with pytest.raises(ResponseError):
            await wrong.ping()
    finally:
        await client.aclose()
        await wrong.aclose()
        server.stop()


async def test_a_unix_socket(tmp_path: Path) -> None:
    """unix:// URLs connect through the socket, with the database from the query."""
    socket_path = tmp_path / "redis.sock"
    server = RedisServer(tmp_path / "unix", extra=("--unixsocket", str(socket_path))).start(appendonly=False)
    client = LeanRedis.from_url(f"unix://{socket_path}?db=1", timeout=TIMEOUT)
    try:
        await client.set("via", b"socket")
        with server.client() as admin:
            admin.select(1)
            assert admin.get("via") == b"socket"
    finally:
        await client.aclose()
        server.stop()


async def test_a_killed_server_fails_at_once_and_a_restarted_one_is_used_again(
    lean: LeanRedis, server: RedisServer
) -> None:
    """Every waiting and new command fails with a connection error while the server is gone; once
    it is back, the next command opens a new connection and succeeds."""
    await lean.set("before", b"1")
    server.kill()
    began = time.monotonic()
    results = await asyncio.gather(*(lean.ping() for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    assert time.monotonic() - began < TIMEOUT
    server.start(appendonly=False)
    assert await lean.ping() is True


async def test_a_stalled_server_times_out_every_waiting_command_then_recovers(
    lean: LeanRedis, server: RedisServer
) -> None:
    """A server that stops answering (SIGSTOP): the commands waiting on it fail with a timeout
    within the client's timeout; after it resumes, a new connection serves commands again."""
    assert await lean.ping() is True
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        results = await asyncio.gather(*(lean.ping() for _ in range(10)), return_exceptions=True)
        waited = time.monotonic() - began
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert all(isinstance(r, RedisTimeoutError | RedisConnectionError) for r in results), results
    assert any(isinstance(r, RedisTimeoutError) for r in results)
    assert TIMEOUT * 0.8 < waited < TIMEOUT * 3
    assert await lean.ping() is True


async def test_a_cancelled_command_does_not_put_later_replies_out_of_step(lean: LeanRedis) -> None:
    """A request cancelled while its command is in flight (a webhook timed out) closes that
    connection; the commands after it get their own replies on a new one."""
    await lean.set("a", b"A")
    await lean.set("b", b"B")
    slow = asyncio.ensure_future(lean.execute_command("BLPOP", "nothing-here", "0.3"))
    await asyncio.sleep(0.05)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await lean.get("a") == b"A"
    assert await lean.get("b") == b"B"
