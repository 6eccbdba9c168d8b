"""REDIS_URL forms: one server, TLS, Cluster, Sentinel; a wrong one is refused at start-up."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.config import ConfigError, load_settings
from ivr.store.connect import RedisUrlError, Target, connect, parse
from ivr.store.glide_redis import GlideRedis


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("redis://127.0.0.1:6379/0", Target("single", False, ())),
        ("rediss://cache.example.org:6380/2", Target("single", True, ())),
        (
            "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
            Target("cluster", False, (("10.0.0.1", 7000), ("10.0.0.2", 7001))),
        ),
        ("rediss+cluster://node:7000", Target("cluster", True, (("node", 7000),))),
        (
            "redis+sentinel://s1:26379,s2/ivr/3",
            Target("sentinel", False, (("s1", 26379), ("s2", 26379)), service="ivr", db=3),
        ),
        (
            "rediss+sentinel://app:p%40ss@s1:5000/ivr",
            Target("sentinel", True, (("s1", 5000),), service="ivr", username="app", password="p@ss"),
        ),
    ],
)
def test_each_form_names_its_deployment(url: str, target: Target) -> None:
    assert parse(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis+cluster://",
        "redis+cluster://node:7000/1",
        "redis+sentinel://s1:26379",
        "redis+sentinel://s1:26379/ivr/x",
        "redis+sentinel://s1:notaport/ivr",
    ],
)
def test_a_wrong_form_is_refused(url: str) -> None:
    with pytest.raises(RedisUrlError):
        parse(url)


def test_a_wrong_form_stops_the_start_without_showing_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis+sentinel://user:hunter2secret@s1:26379")
    with pytest.raises(ConfigError) as caught:
        load_settings(twilio_auth_token=None, ivr_hash_key=None)
    assert "REDIS_URL" in str(caught.value).upper() or "redis_url" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


async def test_each_form_builds_its_client_without_connecting() -> None:
    """One server (plain or TLS) and Cluster get valkey-glide; a unix socket and Sentinel, which
    glide cannot reach, get redis-py's."""
    single = connect("redis://127.0.0.1:1/0", timeout=0.2, max_connections=4, pool_wait=1)
    unix = connect("unix:///run/nowhere.sock?db=2", timeout=0.2, max_connections=4, pool_wait=1)
    tls = connect("rediss://127.0.0.1:1/0", timeout=0.2, max_connections=4, pool_wait=1)
    cluster = connect("redis+cluster://127.0.0.1:1", timeout=0.2, max_connections=4, pool_wait=1)
    sentinel = connect("redis+sentinel://127.0.0.1:1/ivr", timeout=0.2, max_connections=4, pool_wait=1)
    assert isinstance(single, GlideRedis)
    assert not single.cluster
    assert isinstance(unix, Redis)
    assert unix.connection_pool.connection_kwargs["path"] == "/run/nowhere.sock"
    assert unix.connection_pool.connection_kwargs["db"] == 2
    assert isinstance(tls, GlideRedis)
    assert tls.config.use_tls
    assert isinstance(cluster, GlideRedis)
    assert cluster.cluster
    assert isinstance(sentinel, Redis)
    assert type(sentinel.connection_pool).__name__ == "SentinelConnectionPool"
    for client in (single, unix, tls, cluster, sentinel):
        await client.aclose()
