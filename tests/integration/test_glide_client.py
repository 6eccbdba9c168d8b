"""The valkey-glide client against real redis-server processes: redis-py's answers, a cancelled
command that fails nobody else, a wrong password that leaves no socket open and opens the breaker,
a killed connection retried, TLS, and out of memory counted as a store failure."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ResponseError

from ivr.bench.harness import free_port
from ivr.simulator.twilio_sim import in_process, messages_of, new_sid
from ivr.store.errors import StoreUnavailable
from ivr.store.glide_redis import GlideRedis
from ivr.store.keys import Keys
from ivr.store.sessions import Decision, SessionStore, Snapshot
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.redis_servers import RedisServer
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL

SAFETY_NET = "Call 911 now for any of these: trouble breathing"
TIMEOUT = 0.5
KEYS = Keys("m", "glide")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(tmp_path / "redis").start(appendonly=False)
    yield redis_server
    redis_server.stop()


@pytest.fixture
async def glide(server: RedisServer) -> AsyncIterator[GlideRedis]:
    client = GlideRedis.from_url(server.url, timeout=TIMEOUT)
    yield client
    await client.aclose()


async def _increment(snapshot: Snapshot) -> Decision[int]:
    value = int(snapshot.session or b"0") + 1
    return Decision(str(value).encode(), value)


def _clients(server: RedisServer) -> int:
    with server.client() as admin:
        return int(admin.info("clients")["connected_clients"])


async def _settled_clients(server: RedisServer, at_most: int, within: float = 5.0) -> int:
    """The server's count of connections once it falls to `at_most`, or after `within` seconds: a
    socket the client closed is counted until the server has read the close, which on a busy
    machine can take a moment; one left open stays counted however long we wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    count = _clients(server)
    for _ in range(int(within / 0.05)):
        if count <= at_most or loop.time() >= deadline:
            break
        await asyncio.sleep(0.05)
        count = _clients(server)
    return count


async def test_commands_answer_as_redis_py_does(glide: GlideRedis) -> None:
    """PING, SET with expiry, GET, EXISTS, DEL, a transaction and a stream read give redis-py's values."""
    assert await glide.ping() is True
    assert await glide.set("k", b"v", ex=60) is True
    assert await glide.get("k") == b"v"
    assert 0 < await glide.execute_command("TTL", "k") <= 60
    assert await glide.set("p", "w", px=5000) is True
    assert await glide.exists("k", "p", "absent") == 2
    assert await glide.delete("k", "absent") == 1
    assert await glide.get("k") is None
    async with glide.pipeline(transaction=True) as pipe:
        pipe.xadd("s", {"a": "1"}, minid=0, approximate=False)
        pipe.xadd("s", {"b": "2"})
        pipe.pexpire("s", 60_000)
        added_a, added_b, expiring = await pipe.execute()
    assert expiring is True or expiring == 1
    assert await glide.xrange("s", count=10) == [(added_a, {b"a": b"1"}), (added_b, {b"b": b"2"})]
    seconds, micros = await glide.time()
    assert seconds > 1_700_000_000
    assert 0 <= micros < 1_000_000


async def test_an_error_inside_a_transaction_raises(glide: GlideRedis) -> None:
    """A command Redis refuses inside MULTI/EXEC raises; it does not come back as a value."""
    await glide.set("n", b"not a number")
    async with glide.pipeline() as pipe:
        pipe.set("t", b"1")
        pipe._queue("INCR", "n")
        with pytest.raises(ResponseError):
            await pipe.execute()


async def test_a_cancelled_command_fails_no_other(glide: GlideRedis) -> None:
    """A webhook cancelled while its command is in flight: the hundred commands around it get their
    own replies, on the same connection (no reconnection), and so do the ones after."""
    await glide.set("a", b"A")
    connection = await glide.execute_command("CLIENT", "ID")
    slow = asyncio.ensure_future(glide.execute_command("BLPOP", "nothing-here", "0.3"))
    others = [asyncio.ensure_future(glide.get("a")) for _ in range(100)]
    await asyncio.sleep(0.05)
    slow.cancel()
    assert await asyncio.gather(*others) == [b"A"] * 100
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await glide.get("a") == b"A"
    assert await glide.execute_command("CLIENT", "ID") == connection


async def test_a_wrong_password_closes_its_socket_and_opens_the_breaker(tmp_path: Path) -> None:
    """300 turns with a wrong password: each fails as the store being unavailable, no connection is
    left open on the server, and the circuit breaker opens."""
    server = RedisServer(tmp_path / "secured", password="s3cret-pass").start(appendonly=False)
    wrong = GlideRedis.from_url(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout=TIMEOUT)
    store = SessionStore(wrong, timeout=TIMEOUT)
    try:
        before = _clients(server)
        for _ in range(300):
            store.breaker.succeeded()  # each attempt reaches Redis, as after the breaker's cool-off
            with pytest.raises(StoreUnavailable):
                await store.turn(KEYS, 60, _increment)
            assert not store.breaker.closed
        assert await _settled_clients(server, at_most=before) <= before
        with pytest.raises(RedisConnectionError):
            await wrong.ping()
    finally:
        await wrong.aclose()
        server.stop()


async def test_a_password_and_a_database_from_the_url(tmp_path: Path) -> None:
    """AUTH and SELECT come from the URL: writes land in the named database."""
    server = RedisServer(tmp_path / "secured", password="s3cret-pass").start(appendonly=False)
    client = GlideRedis.from_url(f"redis://:s3cret-pass@127.0.0.1:{server.port}/3", timeout=TIMEOUT)
    try:
        await client.set("here", b"1")
        with server.client() as admin:
            admin.select(3)
            assert admin.get("here") == b"1"
    finally:
        await client.aclose()
        server.stop()


async def test_killed_connections_are_retried_under_load(server: RedisServer) -> None:
    """CLIENT KILL of the app's connection while 30 texters text: every text is answered normally
    (the command is sent again once on a new connection), none with the safety net."""
    app = create_app(make_settings(redis_url=server.url))
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        senders = [f"+1555040{i:04d}" for i in range(30)]

        async def texter(sender: str) -> list[str]:
            firsts = []
            for body in ("hi", "no", "no", "no"):
                replies = await twilio.text(body, sender=sender, to=OUR_NUMBER)
                firsts.append(replies[0])
                await asyncio.sleep(0.01)
            return firsts

        async def killer() -> int:
            killed = 0
            for _ in range(5):
                await asyncio.sleep(0.05)
                with server.client() as admin:
                    killed += int(admin.client_kill_filter(_type="normal", skipme=True))
            return killed

        killing = asyncio.ensure_future(killer())
        walks = await asyncio.gather(*(texter(s) for s in senders))
        killed = await killing
        metrics = app.state.components.metrics.exposition().decode()
    assert killed >= 1
    assert not [first for firsts in walks for first in firsts if first.startswith("Call 911 now if you have")]
    assert "ivr_safety_net_answers_total{" not in metrics


async def test_out_of_memory_is_a_store_failure(server: RedisServer) -> None:
    """Redis out of memory (maxmemory reached, noeviction): the text gets the safety net counted as
    a Redis failure, the Redis error counter moves, /readyz turns 503 though PING still answers;
    with memory back, the line is ready again."""
    app = create_app(make_settings(redis_url=server.url))
    async with app.router.lifespan_context(app), in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        assert (await twilio.client.get("/readyz")).status_code == 200
        with server.client() as admin:
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", "1")
        try:
            params = {"From": "+15550500000", "To": OUR_NUMBER, "Body": "hi", "MessageSid": new_sid("SM")}
            response = await twilio.post("/sms", params)
            assert messages_of(response.text)[0].startswith(
                "Call 911 now for any of these: trouble breathing"
            )
            with server.client() as admin:
                assert admin.ping()
            await asyncio.sleep(1.1)  # the breaker's cool-off: readiness now asks Redis itself
            assert (await twilio.client.get("/readyz")).status_code == 503
            metrics = (await twilio.client.get("/metrics")).text
        finally:
            with server.client() as admin:
                admin.config_set("maxmemory", "0")
        assert 'ivr_safety_net_answers_total{reason="redis",route="sms"} 1.0' in metrics
        assert "ivr_redis_errors_total 1.0" in metrics
        assert "\nivr_ready 0.0\n" in metrics
        await asyncio.sleep(1.1)
        assert (await twilio.client.get("/readyz")).status_code == 200


async def test_an_out_of_memory_reply_is_raised_as_redis_py_does(
    glide: GlideRedis, server: RedisServer
) -> None:
    """The error reply of a write refused for memory is redis-py's OutOfMemoryError (a ResponseError)."""
    with server.client() as admin:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", "1")
    try:
        with pytest.raises(OutOfMemoryError):
            await glide.set("x", b"1")
    finally:
        with server.client() as admin:
            admin.config_set("maxmemory", "0")


async def test_tls(tmp_path: Path) -> None:
    """rediss:// with the certificate authority named in the URL: a turn over TLS."""
    ca, cert, key = _certificates(tmp_path)
    tls_port = free_port()
    tls_options = ["--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    tls_options += ["--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"]
    server = RedisServer(tmp_path / "tls", extra=tls_options).start(appendonly=False)
    client = GlideRedis.from_url(f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={ca}", timeout=TIMEOUT)
    untrusting = GlideRedis.from_url(f"rediss://127.0.0.1:{tls_port}/0", timeout=TIMEOUT)
    try:
        assert await SessionStore(client).turn(KEYS, 60, _increment) == 1
        with server.client() as admin:
            assert admin.get(KEYS.session) == b"1"
        with pytest.raises(RedisConnectionError):
            await untrusting.ping()  # a server certificate no known authority signed is refused
    finally:
        await client.aclose()
        await untrusting.aclose()
        server.stop()


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for 127.0.0.1, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is not installed")
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem"))
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=ivr-test-ca"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "1", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=60)  # noqa: S603
    return ca, cert, key
