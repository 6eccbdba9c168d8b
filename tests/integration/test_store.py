"""The Redis store on a real Redis: atomic turns, retries under contention, replies recorded once,
counting, opt-outs, finished calls, and every key with a TTL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.store.breaker import CircuitBreaker
from ivr.store.errors import StoreUnavailable
from ivr.store.keys import Keys
from ivr.store.sessions import Decision, SessionStore, Snapshot
from tests.conftest import redis_test_url

KEYS = Keys("m", "abc")


async def _increment(snapshot: Snapshot) -> Decision[int]:
    value = int(snapshot.session or b"0") + 1
    return Decision(str(value).encode(), value)


async def test_a_turn_saves_with_an_idle_ttl(redis: Redis) -> None:
    """The saved session carries the TTL it was given, renewed by every turn."""
    store = SessionStore(redis)
    assert await store.turn(KEYS, 3600, _increment) == 1
    assert await redis.get(KEYS.session) == b"1"
    assert 3_590_000 < await redis.pttl(KEYS.session) <= 3_600_000
    await redis.pexpire(KEYS.session, 10_000)
    await store.turn(KEYS, 3600, _increment)
    assert await redis.pttl(KEYS.session) > 3_590_000


async def test_returning_none_deletes(redis: Redis) -> None:
    """A turn that returns no session removes the key."""
    store = SessionStore(redis)
    await store.turn(KEYS, 60, _increment)

    async def end(snapshot: Snapshot) -> Decision[None]:
        return Decision(None, None)

    await store.turn(KEYS, 60, end)
    assert await redis.exists(KEYS.session) == 0


async def test_concurrent_turns_on_separate_connections_lose_nothing(redis: Redis) -> None:
    """Two clients racing 100 increments each on one conversation end at exactly 200."""
    other = Redis.from_url(redis_test_url())
    try:
        stores = [SessionStore(redis), SessionStore(other)]
        results = await asyncio.gather(*(stores[i % 2].turn(KEYS, 60, _increment) for i in range(200)))
        assert await redis.get(KEYS.session) == b"200"
        assert sorted(results) == list(range(1, 201))
    finally:
        await other.aclose()


async def test_a_conflict_reruns_the_decision_on_the_newer_session(redis: Redis) -> None:
    """When the session changes between this process's last save and its next turn (another
    process took a turn), the decision runs again on what is really stored."""
    store = SessionStore(redis)
    other_process = SyncRedis.from_url(redis_test_url())
    seen: list[bytes | None] = []

    async def save_a(snapshot: Snapshot) -> Decision[None]:
        return Decision(b"a", None)

    async def append_x(snapshot: Snapshot) -> Decision[None]:
        if not seen:
            other_process.set(KEYS.session, b"b")  # another webhook wins the race meanwhile
        seen.append(snapshot.session)
        return Decision((snapshot.session or b"") + b"x", None)

    try:
        await store.turn(KEYS, 60, save_a)
        await store.turn(KEYS, 60, append_x)
    finally:
        other_process.close()
    assert seen == [b"a", b"b"]
    assert await redis.get(KEYS.session) == b"bx"


async def _evalsha_calls(redis: Redis) -> int:
    stats: dict[str, Any] = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_a_usual_turn_is_one_round_trip_and_a_stale_guess_two(redis: Redis) -> None:
    """New conversations and turns after this process's own save take one script call; when another
    process moved the conversation on, the guess fails and a second call saves correctly."""
    store = SessionStore(redis)
    await store.turn(KEYS, 60, _increment)  # loads the scripts
    await redis.config_resetstat()
    for _ in range(5):
        await store.turn(KEYS, 60, _increment)
    assert await _evalsha_calls(redis) == 5
    other = SessionStore(Redis.from_url(redis_test_url()))
    try:
        await other.turn(KEYS, 60, _increment)  # moves the session on behind `store`'s back
        await redis.config_resetstat()
        assert await store.turn(KEYS, 60, _increment) == 8
    finally:
        await other.close()
    assert await _evalsha_calls(redis) == 2
    assert await redis.get(KEYS.session) == b"8"


async def test_a_repeated_message_gets_the_recorded_reply_and_changes_nothing(redis: Redis) -> None:
    """The reply to a MessageSid is recorded with the session; the same message again sees it."""
    store = SessionStore(redis)
    calls: list[Snapshot] = []

    async def answer(snapshot: Snapshot) -> Decision[bytes]:
        calls.append(snapshot)
        if snapshot.replay is not None:
            return Decision(snapshot.session, snapshot.replay)
        return Decision(b"step-1", b"reply-1", b"reply-1")

    sid = "SM" + "a" * 32
    assert await store.turn(KEYS, 60, answer, message_sid=sid, replay_ttl=600) == b"reply-1"
    assert await store.turn(KEYS, 60, answer, message_sid=sid, replay_ttl=600) == b"reply-1"
    assert calls[-1].replay == b"reply-1"  # the second turn's decision, on what Redis really holds
    assert await redis.get(KEYS.session) == b"step-1"
    assert 590 < await redis.ttl(KEYS.replies) <= 600


async def test_the_same_message_twice_at_once_is_applied_once(redis: Redis) -> None:
    """Two copies of one message racing: one advances the session, the other gets its reply."""
    stores = [SessionStore(redis), SessionStore(Redis.from_url(redis_test_url()))]
    sid = "SM" + "b" * 32

    async def advance(snapshot: Snapshot) -> Decision[bytes]:
        if snapshot.replay is not None:
            return Decision(snapshot.session, snapshot.replay)
        value = int(snapshot.session or b"0") + 1
        return Decision(str(value).encode(), f"reply-{value}".encode(), f"reply-{value}".encode())

    try:
        replies = await asyncio.gather(*(s.turn(KEYS, 60, advance, message_sid=sid) for s in stores))
    finally:
        await stores[1].close()
    assert replies == [b"reply-1", b"reply-1"]
    assert await redis.get(KEYS.session) == b"1"


async def test_texts_are_counted_in_a_window_and_the_limit_is_seen(redis: Redis) -> None:
    """Each counted turn raises the counter, which expires with its window; past the limit the
    decision sees the real count (the guess of an ordinary turn does not hold)."""
    store = SessionStore(redis)
    seen: list[int] = []

    async def look(snapshot: Snapshot) -> Decision[None]:
        seen.append(snapshot.texts_in_window)
        return Decision(snapshot.session, None)

    for _ in range(3):
        await store.turn(KEYS, 60, look, count_window=300, count_limit=2)
    await store.turn(KEYS, 60, look)  # not counted
    assert await redis.get(KEYS.counter) == b"3"
    assert 290 < await redis.ttl(KEYS.counter) <= 300
    assert seen[-2:] == [3, 0]  # the third turn, decided again on the real count; the fourth, a guess


async def test_opt_out_ends_the_session_and_is_seen_until_opt_in(redis: Redis) -> None:
    """Opting out deletes the session and sets a flag with its own TTL; opting in removes it."""
    store = SessionStore(redis)
    await store.turn(KEYS, 60, _increment)
    await store.opt_out(KEYS, 86400)
    assert await redis.exists(KEYS.session) == 0
    assert 86300 < await redis.ttl(KEYS.opt_out) <= 86400
    flags: list[bool] = []

    async def look(snapshot: Snapshot) -> Decision[None]:
        flags.append(snapshot.opted_out)
        return Decision(snapshot.session, None)

    await store.turn(KEYS, 60, look)
    assert flags[-1] is True
    assert await store.opt_in(KEYS) is True
    assert await store.opt_in(KEYS) is False
    await store.turn(KEYS, 60, look)
    assert flags[-1] is False


async def test_a_finished_call_leaves_only_a_tombstone(redis: Redis) -> None:
    """Finishing returns the session it removes and leaves an expiring marker that later turns see."""
    store = SessionStore(redis)
    call = Keys("v", "CA" + "c" * 32)
    await store.turn(call, 900, _increment)
    assert await store.finish_call(call, 900) == b"1"
    assert await store.finish_call(call, 900) is None
    assert await redis.exists(call.session) == 0
    assert 890 < await redis.ttl(call.finished) <= 900
    finished: list[bool] = []

    async def look(snapshot: Snapshot) -> Decision[None]:
        finished.append(snapshot.finished)
        return Decision(snapshot.session, None)

    await store.turn(call, 900, look)
    assert finished[-1] is True


async def test_every_key_the_store_writes_expires(redis: Redis) -> None:
    """Sessions, replies, counters, opt-outs and tombstones all carry a TTL."""
    store = SessionStore(redis)

    async def answer(snapshot: Snapshot) -> Decision[None]:
        return Decision(b"s", None, b"r")

    await store.turn(KEYS, 60, answer, message_sid="SM" + "d" * 32, count_window=300)
    await store.opt_out(Keys("m", "other"), 86400)
    await store.turn(Keys("v", "CA" + "e" * 32), 900, _increment)
    await store.finish_call(Keys("v", "CA" + "e" * 32), 900)
    keys: list[Any] = await redis.keys("*")
    assert len(keys) == 5
    for key in keys:
        assert await redis.ttl(key) > 0, key


async def test_after_a_failure_the_breaker_answers_at_once_then_lets_a_try_through() -> None:
    """While open the breaker refuses without touching Redis; after its cool-off, Redis is tried."""
    now = [100.0]
    breaker = CircuitBreaker(cool_off=1.0, clock=lambda: now[0])
    store = SessionStore(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), breaker=breaker)
    with pytest.raises(StoreUnavailable) as tried:
        await store.turn(KEYS, 60, _increment)
    assert isinstance(tried.value.__cause__, RedisConnectionError)
    with pytest.raises(StoreUnavailable) as refused:
        await store.turn(KEYS, 60, _increment)
    assert refused.value.__cause__ is None  # Redis was not even tried
    now[0] += 1.5
    with pytest.raises(StoreUnavailable) as retried:
        await store.turn(KEYS, 60, _increment)
    assert isinstance(retried.value.__cause__, RedisConnectionError)
    await store.close()
