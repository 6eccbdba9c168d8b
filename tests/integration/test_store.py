"""The Redis session store on a real Redis: atomic transitions, retries under contention, TTLs."""

from __future__ import annotations

import asyncio

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from ivr.store import SessionStore, conversation_key
from tests.conftest import redis_test_url


async def _increment(raw: bytes | None) -> tuple[bytes | None, int]:
    value = int(raw or b"0") + 1
    return str(value).encode(), value


async def test_a_transition_saves_with_an_idle_ttl(redis: Redis) -> None:
    """The saved value carries the TTL it was given, renewed by every transition."""
    store = SessionStore(redis)
    key = conversation_key("m", "abc")
    assert await store.transition(key, 3600, _increment) == 1
    assert await redis.get(key) == b"1"
    assert 3_590_000 < await redis.pttl(key) <= 3_600_000
    await redis.pexpire(key, 10_000)
    await store.transition(key, 3600, _increment)
    assert await redis.pttl(key) > 3_590_000


async def test_returning_none_deletes(redis: Redis) -> None:
    """A transition that returns no value removes the key."""
    store = SessionStore(redis)
    key = conversation_key("m", "gone")
    await store.transition(key, 60, _increment)

    async def delete(raw: bytes | None) -> tuple[bytes | None, None]:
        return None, None

    await store.transition(key, 60, delete)
    assert await redis.exists(key) == 0


async def test_concurrent_transitions_on_separate_connections_lose_nothing(redis: Redis) -> None:
    """Two clients racing 100 increments each on one key end at exactly 200: no lost update."""
    other = Redis.from_url(redis_test_url())
    try:
        stores = [SessionStore(redis), SessionStore(other)]
        key = conversation_key("m", "race")
        results = await asyncio.gather(*(stores[i % 2].transition(key, 60, _increment) for i in range(200)))
        assert await redis.get(key) == b"200"
        assert sorted(results) == list(range(1, 201))
    finally:
        await other.aclose()


async def test_a_conflict_reruns_the_transition_on_the_newer_value(redis: Redis) -> None:
    """When the value changes between read and write, the transition runs again on what is there now."""
    store = SessionStore(redis)
    key = conversation_key("m", "conflict")
    other_process = SyncRedis.from_url(redis_test_url())
    seen: list[bytes | None] = []

    async def append_x(raw: bytes | None) -> tuple[bytes | None, None]:
        if not seen:
            other_process.set(key, b"b")  # another webhook wins the race after our read
        seen.append(raw)
        return (raw or b"") + b"x", None

    await redis.set(key, b"a")
    try:
        await store.transition(key, 60, append_x)
    finally:
        other_process.close()
    assert seen == [b"a", b"b"]
    assert await redis.get(key) == b"bx"


async def test_keys_of_one_conversation_share_a_cluster_hash_tag() -> None:
    """The key names its conversation inside braces, so Redis Cluster keeps it on one slot."""
    assert conversation_key("v", "CA123") == "ivr:{v:CA123}:s"
