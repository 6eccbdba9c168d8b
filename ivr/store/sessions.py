"""Conversations in Redis: one script call to load, one to commit atomically; every key expires."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterError, ReadOnlyError, RedisClusterException, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ivr.store.connect import AnyRedis, close

log = logging.getLogger(__name__)

T = TypeVar("T")

# The end of a turn both scripts below share: save the new session (or delete it) and record the
# reply to the message. KEYS[1] session, KEYS[2] replies; ARGV[2] new session ('' = delete), ARGV[3]
# session TTL ms, ARGV[4] message id, ARGV[5] reply to record ('' = none), ARGV[6] reply TTL ms.
_SAVE = """
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return {1}
"""

# One round trip for a whole turn, in the usual case. The process guesses the stored session (the
# one it last wrote for this conversation, or none for a new one) and decides the turn on that
# guess; this script counts the text, checks the guess and everything else that would change the
# decision (a repeated message, an opt-out, a finished call, too many texts), and saves only if
# the guess held. Otherwise it returns what is really stored, and the turn is decided again.
# KEYS: session, replies (a hash of message id to reply), text counter, opt-out flag, finished-call
#       tombstone.
# ARGV: guessed session ('' = absent), new session ('' = delete), session TTL ms, message id ('' =
#       none), reply to record, reply TTL ms, counter window s (0 = do not count), texts allowed
#       (0 = no limit).
# Returns {1} saved, or {0, session, replay, count, opted_out, finished}.
_SPECULATE = (
    """
local count = 0
local window = tonumber(ARGV[7])
if window > 0 then
  count = redis.call('INCR', KEYS[3])
  if count == 1 then redis.call('EXPIRE', KEYS[3], window) end
end
local replay = false
if ARGV[4] ~= '' then replay = redis.call('HGET', KEYS[2], ARGV[4]) end
local opted_out = redis.call('EXISTS', KEYS[4])
local finished = redis.call('EXISTS', KEYS[5])
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
local limit = tonumber(ARGV[8])
if replay or opted_out == 1 or finished == 1 or (limit > 0 and count > limit) or current ~= ARGV[1] then
  return {0, current, replay or '', count, opted_out, finished}
end
"""
    + _SAVE
)

# When the guess was wrong: compare-and-set the session against what is really stored, and record
# the reply to a message so a repeat of it gets the same reply. A reply already recorded wins.
# KEYS: session, replies.  ARGV: expected session ('' = absent), new session ('' = delete),
#       session TTL ms, message id ('' = none), reply to record ('' = none), reply TTL ms.
# Returns {1} saved, {0, current} the session changed meanwhile, {2, reply} already answered.
_COMMIT = (
    """
if ARGV[4] ~= '' then
  local seen = redis.call('HGET', KEYS[2], ARGV[4])
  if seen then return {2, seen} end
end
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return {0, current} end
"""
    + _SAVE
)

# A finished call: remove its session, leave a tombstone so a late webhook cannot revive it, and
# hand back what the session was (to count a hang-up mid-triage as abandoned).
# KEYS: session, tombstone.  ARGV: tombstone TTL seconds.
_FINISH = """
local session = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return session
"""

MAX_ATTEMPTS = 50

# Errors that mean Redis cannot take the turn now, not that the turn is wrong: the network, a
# timeout, a Sentinel failover under way (the old master is read-only, or no master is known yet),
# a Cluster moving slots or missing a node.
UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ReadOnlyError,
    TryAgainError,
    ClusterError,
    RedisClusterException,
)


class StoreUnavailable(ConnectionError):
    """Redis cannot be reached (now, or it failed a moment ago and is left alone for a while);
    the caller answers with the safety net."""


class StoreContention(RuntimeError):
    """A conversation changed under us on every attempt; the caller answers with the safety net."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys of one conversation. The braces are a Redis Cluster hash tag: every key of one
    conversation lands on one slot, so one script may touch them together."""

    channel: str
    conversation: str

    @property
    def _base(self) -> str:
        return f"ivr:{{{self.channel}:{self.conversation}}}"

    @property
    def session(self) -> str:
        return f"{self._base}:s"

    @property
    def replies(self) -> str:
        """A hash of message id to the reply given to it: one key however many texts, which
        costs far less memory than one key per message."""
        return f"{self._base}:r"

    @property
    def counter(self) -> str:
        return f"{self._base}:n"

    @property
    def opt_out(self) -> str:
        return f"{self._base}:o"

    @property
    def finished(self) -> str:
        return f"{self._base}:x"


def conversation_key(channel: str, conversation: str) -> str:
    """The session key of a conversation."""
    return Keys(channel, conversation).session


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What is stored about a conversation at the start of a turn."""

    session: bytes | None
    replay: bytes | None = None  # the reply already given to this very message
    texts_in_window: int = 0  # texts from this sender in the rate-limit window, this one included
    opted_out: bool = False
    finished: bool = False  # the call has already ended


Decide = Callable[[Snapshot], Awaitable[tuple[bytes | None, T, bytes | None]]]


class CircuitBreaker:
    """After Redis fails, skip it for a short while: callers get the safety net at once instead of
    each waiting out a timeout, and Redis is not hammered while it recovers."""

    def __init__(self, cool_off: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cool_off = cool_off
        self.clock = clock
        self._failed_at = float("-inf")

    def check(self) -> None:
        if self.clock() - self._failed_at < self.cool_off:
            raise StoreUnavailable("Redis failed moments ago")

    def failed(self) -> None:
        self._failed_at = self.clock()

    def succeeded(self) -> None:
        self._failed_at = float("-inf")


class KeyLocks:
    """Serialises turns on one conversation inside this process, so its own webhooks never race
    each other in Redis; compare-and-set still guards against other processes."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class RecentSessions:
    """The session this process last saved for each conversation: its guess of what Redis holds.

    A guess, never a source of truth: the store checks it against Redis in the same script that
    saves, so a stale entry (another process took a turn) costs a second round trip, not a mistake.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def guess(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def remember(self, key: str, session: bytes | None) -> None:
        if session is None:
            self._entries.pop(key, None)
            return
        self._entries[key] = session
        self._entries.move_to_end(key)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


class SessionStore:
    """Conversation persistence over a redis.asyncio client (real Redis, or fakeredis in-process)."""

    def __init__(self, redis: AnyRedis, *, breaker: CircuitBreaker | None = None) -> None:
        self.redis = redis
        self.breaker = breaker or CircuitBreaker()
        self._speculate = redis.register_script(_SPECULATE)
        self._commit = redis.register_script(_COMMIT)
        self._finish = redis.register_script(_FINISH)
        self._locks = KeyLocks()
        self.recent = RecentSessions()

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        self.breaker.check()
        try:
            yield
        except UNAVAILABLE as exc:
            self.breaker.failed()
            raise StoreUnavailable(f"Redis failed: {type(exc).__name__}") from exc
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

        `decide` gets a Snapshot and returns (new session bytes or None to delete, a result, and
        bytes to record as the reply to `message_sid` or None). It must not have effects of its
        own: it runs first on a guess (the session this process last saved, and nothing unusual),
        and again on what Redis really holds whenever the guess was wrong or another webhook for
        the conversation changed it meanwhile. A repeat of a message already answered reaches it
        as Snapshot.replay.
        """
        async with self._locks.hold(keys.session), self._guard():
            guess = Snapshot(session=self.recent.guess(keys.session))
            new, result, reply = await decide(guess)
            outcome: list[Any] = await self._speculate(
                keys=[keys.session, keys.replies, keys.counter, keys.opt_out, keys.finished],
                args=[
                    guess.session or b"",
                    new or b"",
                    ttl_seconds * 1000,
                    _reply_field(message_sid),
                    (reply or b"") if message_sid else b"",
                    replay_ttl * 1000,
                    count_window,
                    count_limit,
                ],
            )
            if int(outcome[0]) == 1:
                self.recent.remember(keys.session, new)
                return result
            snapshot = Snapshot(
                session=_as_bytes(outcome[1]) or None,
                replay=(_as_bytes(outcome[2]) or None) if message_sid else None,
                texts_in_window=int(outcome[3]),
                opted_out=bool(outcome[4]),
                finished=bool(outcome[5]),
            )
            for attempt in range(MAX_ATTEMPTS):
                new, result, reply = await decide(snapshot)
                if snapshot.replay is not None or (new == snapshot.session and reply is None):
                    self.recent.remember(keys.session, snapshot.session)
                    return result  # nothing to write: a repeat, or a turn that changes nothing
                outcome = await self._commit(
                    keys=[keys.session, keys.replies],
                    args=[
                        snapshot.session or b"",
                        new or b"",
                        ttl_seconds * 1000,
                        _reply_field(message_sid),
                        (reply or b"") if message_sid else b"",
                        replay_ttl * 1000,
                    ],
                )
                status = int(outcome[0])
                if status == 1:
                    self.recent.remember(keys.session, new)
                    return result
                if status == 2:
                    snapshot = replace(snapshot, replay=_as_bytes(outcome[1]))
                else:
                    snapshot = replace(snapshot, session=_as_bytes(outcome[1]) or None)
                    # Another process won; a little jitter keeps several from colliding again in step.
                    await asyncio.sleep(random.uniform(0, 0.001 * (attempt + 1)))  # noqa: S311 - not crypto
        raise StoreContention(keys.session)

    async def opt_out(self, keys: Keys, ttl_seconds: int) -> None:
        """Remember that this sender opted out, and end any triage in progress."""
        self.recent.remember(keys.session, None)
        async with self._guard(), self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session)
            pipe.set(keys.opt_out, b"1", ex=ttl_seconds)
            await pipe.execute()

    async def opt_in(self, keys: Keys) -> bool:
        """Forget an opt-out; True when there was one."""
        async with self._guard():
            return bool(await self.redis.delete(keys.opt_out))

    async def opted_out(self, keys: Keys) -> bool:
        async with self._guard():
            return bool(await self.redis.exists(keys.opt_out))

    async def finish_call(self, keys: Keys, tombstone_ttl: int) -> bytes | None:
        """Remove a finished call's session; returns what it was, or None if there was none."""
        self.recent.remember(keys.session, None)
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
        await close(self.redis)


def _reply_field(message_sid: str | None) -> bytes:
    """The field a message's reply is kept under: 8 bytes of a hash of the message id, which tell
    apart the texts of one conversation for a quarter of the id's memory."""
    return hashlib.blake2b(message_sid.encode(), digest_size=8).digest() if message_sid else b""


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """Values are bytes (the client does not decode), but the client's types allow str."""
    return value.encode() if isinstance(value, str) else value
