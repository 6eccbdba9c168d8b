"""Conversations in Redis: one script call per turn on a guessed session, compare-and-set on a miss."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from redis.asyncio.cluster import RedisCluster

from ivr.store import scripts
from ivr.store.breaker import CircuitBreaker
from ivr.store.connect import AnyRedis, close
from ivr.store.errors import UNAVAILABLE, StoreContention, StoreUnavailable
from ivr.store.keys import Keys
from ivr.store.locks import KeyLocks
from ivr.store.recent import RecentSessions

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What is stored about a conversation at the start of a turn."""

    session: bytes | None
    replay: bytes | None = None  # the reply already given to this very message
    texts_in_window: int = 0  # texts from this sender in the rate-limit window, this one included
    opted_out: bool = False
    finished: bool = False  # the call has already ended


@dataclass(frozen=True, slots=True)
class Decision(Generic[T]):
    """What a turn decided, for the store to save: the new session (None deletes it), the result
    handed back to the caller, and the reply to record against the message (None: nothing)."""

    session: bytes | None
    result: T
    reply: bytes | None = None


Decide = Callable[[Snapshot], Awaitable[Decision[T]]]


class SessionStore:
    """Conversation persistence over a redis.asyncio client (real Redis, or fakeredis in-process)."""

    def __init__(
        self,
        redis: AnyRedis,
        *,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.redis = redis
        self.breaker = breaker or CircuitBreaker()
        self._speculate = redis.register_script(scripts.SPECULATE)
        self._commit = redis.register_script(scripts.COMMIT)
        self._finish = redis.register_script(scripts.FINISH)
        self._take = redis.register_script(scripts.TAKE)
        self._locks = KeyLocks()
        self.recent = RecentSessions()

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Redis failures become StoreUnavailable and open the circuit breaker."""
        self.breaker.check()
        try:
            yield
        except UNAVAILABLE as exc:
            self.breaker.failed()
            raise StoreUnavailable(f"Redis failed: {type(exc).__name__}") from exc
        except BaseException:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()

    async def turn(
        self,
        keys: Keys,
        ttl_seconds: int,
        decide: Decide[T],
        *,
        message_sid: str | None = None,
        count_window: int = 0,
        count_limit: int = 0,
        replay_ttl: int = 600,
    ) -> T:
        """Decide a turn of a conversation and save it atomically; usually one round trip.

        `decide` gets a Snapshot and returns a Decision. It must not have effects of its own: it
        runs first on a guess (the session this process last saved, and nothing unusual), and
        again on what Redis really holds whenever the guess was wrong or another webhook for the
        conversation changed it meanwhile. A repeat of a message already answered reaches it as
        Snapshot.replay.
        """
        field = _reply_field(message_sid)

        def arguments(expected: bytes | None, decision: Decision[T]) -> list[Any]:
            reply = (decision.reply or b"") if message_sid else b""
            return [
                expected or b"",
                decision.session or b"",
                ttl_seconds * 1000,
                field,
                reply,
                replay_ttl * 1000,
            ]

        async with self._locks.hold(keys.session), self._guard():
            try:
                return await self._turn(
                    keys,
                    decide,
                    arguments=arguments,
                    message_sid=message_sid,
                    count_window=count_window,
                    count_limit=count_limit,
                )
            except BaseException:
                # The write may or may not have happened: the next turn reads what Redis holds.
                self.recent.forget(keys.session)
                raise

    async def _turn(
        self,
        keys: Keys,
        decide: Decide[T],
        *,
        arguments: Callable[[bytes | None, Decision[T]], list[Any]],
        message_sid: str | None,
        count_window: int,
        count_limit: int,
    ) -> T:
        guess = Snapshot(session=self.recent.guess(keys.session))
        decision = await decide(guess)
        outcome: list[Any] = await self._speculate(
            keys=[keys.session, keys.replies, keys.counter, keys.opt_out, keys.finished],
            args=[*arguments(guess.session, decision), count_window, count_limit],
        )
        if int(outcome[0]) == scripts.SAVED:
            self.recent.remember(keys.session, decision.session)
            return decision.result
        snapshot = Snapshot(
            session=_as_bytes(outcome[1]) or None,
            replay=(_as_bytes(outcome[2]) or None) if message_sid else None,
            texts_in_window=int(outcome[3]),
            opted_out=bool(outcome[4]),
            finished=bool(outcome[5]),
        )
        for attempt in range(MAX_ATTEMPTS):
            decision = await decide(snapshot)
            if snapshot.replay is not None or (
                decision.session == snapshot.session and decision.reply is None
            ):
                self.recent.remember(keys.session, snapshot.session)
                return decision.result  # nothing to write: a repeat, or a turn that changes nothing
            outcome = await self._commit(
                keys=[keys.session, keys.replies], args=arguments(snapshot.session, decision)
            )
            status = int(outcome[0])
            if status == scripts.SAVED:
                self.recent.remember(keys.session, decision.session)
                return decision.result
            if status == scripts.ANSWERED:
                snapshot = replace(snapshot, replay=_as_bytes(outcome[1]))
            else:
                snapshot = replace(snapshot, session=_as_bytes(outcome[1]) or None)
                # Another process won; a little jitter keeps several from colliding again in step.
                await asyncio.sleep(random.uniform(0, 0.001 * (attempt + 1)))  # noqa: S311 - not crypto
        raise StoreContention(keys.session)

    async def opt_out(self, keys: Keys, ttl_seconds: int) -> None:
        """Remember that this sender opted out, and end any triage in progress."""
        self.recent.forget(keys.session)
        async with self._guard(), self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session)
            pipe.set(keys.opt_out, b"1", ex=ttl_seconds)
            await pipe.execute()

    async def opt_in(self, keys: Keys) -> bool:
        """Forget an opt-out; True when there was one."""
        async with self._guard():
            return bool(await self.redis.delete(keys.opt_out))

    async def mark(self, key: str, ttl_seconds: int) -> None:
        """Set a flag that expires (a nurse took a call)."""
        async with self._guard():
            await self.redis.set(key, b"1", ex=ttl_seconds)

    async def take(self, key: str) -> bool:
        """Whether a flag was set; it is gone afterwards."""
        async with self._guard():
            return bool(await self.redis.delete(key))

    async def keep(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Keep a value for a while (a follow-up text offered at a call's outcome)."""
        async with self._guard():
            await self.redis.set(key, value, ex=ttl_seconds)

    async def take_value(self, key: str) -> bytes | None:
        """A kept value, deleted as it is read: the second of two readers gets None."""
        async with self._guard():
            return _as_bytes(await self._take(keys=[key], args=[]))

    async def opted_out(self, keys: Keys) -> bool:
        """Whether the sender has opted out."""
        async with self._guard():
            return bool(await self.redis.exists(keys.opt_out))

    async def finish_call(self, keys: Keys, tombstone_ttl: int) -> bytes | None:
        """Remove a finished call's session; returns what it was, or None if there was none."""
        self.recent.forget(keys.session)
        async with self._guard():
            return _as_bytes(await self._finish(keys=[keys.session, keys.finished], args=[tombstone_ttl]))

    async def warm_up(self) -> None:
        """Learn a Redis Cluster's layout before the first webhook. Left to the first commands, a
        burst of them discover it all at once, and redis-py (8.1) then recycles connections that
        other commands are still using. Unreachable now is fine: webhooks get the safety net and
        the client learns the layout when the cluster answers."""
        if isinstance(self.redis, RedisCluster):
            try:
                await self.redis.initialize()
            except UNAVAILABLE as exc:
                log.warning("Redis Cluster not reachable at start", extra={"error": type(exc).__name__})

    async def ping(self) -> bool:
        """Redis answers, and turns are being taken: not ready while the circuit breaker holds
        webhooks to the safety net; a ping that gets through closes it."""
        async with self._guard():
            return bool(await self.redis.ping())

    async def close(self) -> None:
        """Close the Redis client and what it holds."""
        await close(self.redis)


def _reply_field(message_sid: str | None) -> bytes:
    """The field a message's reply is kept under: 8 bytes of a hash of the message id, which tell
    apart the texts of one conversation for a quarter of the id's memory."""
    return hashlib.blake2b(message_sid.encode(), digest_size=8).digest() if message_sid else b""


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """Values are bytes (the client does not decode), but the client's types allow str."""
    return value.encode() if isinstance(value, str) else value
