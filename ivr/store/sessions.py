"""Conversations in Redis: one script call per turn on a guessed session, compare-and-set on a miss."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from ivr.store import scripts
from ivr.store.breaker import CircuitBreaker
from ivr.store.connect import AnyRedis, close
from ivr.store.errors import STORE_ERRORS, StoreContention, StoreLate, StoreUnavailable
from ivr.store.keys import Keys
from ivr.store.locks import KeyLocks
from ivr.store.missed import MissedReplies
from ivr.store.recent import RecentSessions

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 50
# The part of the Redis timeout kept free between a turn script's deadline and the moment the
# client gives up on it: the time its reply takes to come back, and the clocks' disagreement.
DEADLINE_MARGIN = 0.25
HEALTH_KEY = "ivr:health"
# Seconds a measure of the server's clock is kept before a lower one may replace it.
CLOCK_SAMPLE_LIFE = 30.0

# time.monotonic() by which the webhook under way answers, whatever happens (its hard limit): no
# turn script may be saved after it. Set by the web layer around each webhook's work.
ANSWER_BY: ContextVar[float | None] = ContextVar("answer_by", default=None)


@contextlib.contextmanager
def answering_by(deadline: float) -> Iterator[None]:
    """Within the block, turns are saved only if Redis runs them before `deadline` (monotonic)."""
    token = ANSWER_BY.set(deadline)
    try:
        yield
    finally:
        ANSWER_BY.reset(token)


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
        timeout: float = 1.0,
    ) -> None:
        self.redis = redis
        self.breaker = breaker or CircuitBreaker()
        self.timeout = timeout  # the client's: how long it waits for a command before giving up
        # The server's clock minus time.monotonic(), in ms, from the last reply that carried it.
        # Measured when the reply is read, after Redis read its clock, so never more than the true
        # difference: deadlines made with it err early, never late.
        self._clock_offset_ms: float | None = None
        self._offset_seen_at = 0.0  # time.monotonic() of the sample kept
        self._speculate = redis.register_script(scripts.SPECULATE)
        self._commit = redis.register_script(scripts.COMMIT)
        self._finish = redis.register_script(scripts.FINISH)
        self._take = redis.register_script(scripts.TAKE)
        self._locks = KeyLocks()
        self.recent = RecentSessions()
        self.missed = MissedReplies()

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Redis failures become StoreUnavailable and open the circuit breaker."""
        self.breaker.check()
        try:
            yield
        except StoreUnavailable:
            self.breaker.failed()
            raise
        except STORE_ERRORS as exc:
            # Error replies too (out of memory, read-only, a script error): Redis cannot take the turn.
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
                self._deadline_ms(),
            ]

        async with self._locks.hold(keys.session), self._guard():
            if self._clock_offset_ms is None:
                await self._read_clock()
            if message_sid and (missed := await self._missed_reply(keys)) is not None:
                log.warning("a reply saved while Redis failed is sent now, in place of this text's")
                decide = _answered_with(missed, decide)
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
                # The write may or may not have happened: the next turn reads what Redis holds, and
                # sends the reply saved for this text if it was saved (see MissedReplies).
                self.recent.forget(keys.session)
                if message_sid:
                    self.missed.note(keys.session, field, replay_ttl)
                raise

    async def _missed_reply(self, keys: Keys) -> bytes | None:
        """The latest reply saved for a text of this conversation that failed here, if any."""
        fields = self.missed.take(keys.session)
        if not fields:
            return None
        found = await self.redis.hmget(keys.replies, fields)
        saved = [_as_bytes(value) for value in found if value]
        return saved[-1] if saved else None

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
        outcome = self._timed(
            await self._speculate(
                keys=[keys.session, keys.replies, keys.counter, keys.opt_out, keys.finished],
                args=[*arguments(guess.session, decision), count_window, count_limit],
            )
        )
        if int(outcome[0]) == scripts.SAVED:
            self.recent.remember(keys.session, decision.session)
            return decision.result
        snapshot = Snapshot(
            session=_as_bytes(outcome[2]) or None,
            replay=(_as_bytes(outcome[3]) or None) if message_sid else None,
            texts_in_window=int(outcome[4]),
            opted_out=bool(outcome[5]),
            finished=bool(outcome[6]),
        )
        for attempt in range(MAX_ATTEMPTS):
            decision = await decide(snapshot)
            if snapshot.replay is not None or (
                decision.session == snapshot.session and decision.reply is None
            ):
                self.recent.remember(keys.session, snapshot.session)
                return decision.result  # nothing to write: a repeat, or a turn that changes nothing
            pair = [keys.session, keys.replies]
            outcome = self._timed(await self._commit(keys=pair, args=arguments(snapshot.session, decision)))
            status = int(outcome[0])
            if status == scripts.SAVED:
                self.recent.remember(keys.session, decision.session)
                return decision.result
            if status == scripts.ANSWERED:
                snapshot = replace(snapshot, replay=_as_bytes(outcome[2]))
            else:
                snapshot = replace(snapshot, session=_as_bytes(outcome[2]) or None)
                # Another process won; a little jitter keeps several from colliding again in step.
                await asyncio.sleep(random.uniform(0, 0.001 * (attempt + 1)))  # noqa: S311 - not crypto
        raise StoreContention(keys.session)

    def _deadline_ms(self) -> int:
        """When, by the server's clock, Redis must run a turn script sent now for it to be saved:
        before the client gives up on it, and before the webhook's own hard limit, with a margin."""
        now = time.monotonic()
        margin = self.timeout * DEADLINE_MARGIN
        until = now + self.timeout - margin
        answer_by = ANSWER_BY.get()
        if answer_by is not None:
            until = min(until, answer_by - margin)
        return int(until * 1000 + (self._clock_offset_ms or 0.0))

    def _note_clock(self, server_ms: float) -> None:
        """Keep the best recent measure of the server's clock. Each is low by however long the reply
        took to be read (an event loop busy under load can add hundreds of ms), so the highest is
        the truest; it is kept for a while only, so that a server clock set back is followed."""
        now = time.monotonic()
        sample = server_ms - now * 1000
        if (
            self._clock_offset_ms is None
            or sample > self._clock_offset_ms
            or now - self._offset_seen_at > CLOCK_SAMPLE_LIFE
        ):
            self._clock_offset_ms, self._offset_seen_at = sample, now

    def _timed(self, outcome: list[Any]) -> list[Any]:
        """A turn script's reply: its clock noted, and a late one refused."""
        self._note_clock(int(outcome[1]))
        if int(outcome[0]) == scripts.LATE:
            log.warning("Redis ran a turn after its deadline: nothing was saved")
            raise StoreLate("Redis ran the turn after its deadline")
        return outcome

    async def _read_clock(self) -> None:
        """Learn the server's clock (before the first turn: later ones learn it from the scripts)."""
        seconds, micros = await self.redis.time()
        self._note_clock(seconds * 1000 + micros / 1000)

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
        """Connect, learn the server's clock and, on a Cluster, its layout before the first webhook
        (left to the first commands, a burst of them would all do it at once). Unreachable now is
        fine: webhooks get the safety net and the client connects when Redis answers."""
        try:
            initialize = getattr(self.redis, "initialize", None)
            if initialize is not None:
                await initialize()
            await self._read_clock()
        except STORE_ERRORS as exc:
            log.warning("Redis not reachable at start", extra={"error": type(exc).__name__})

    async def ping(self) -> bool:
        """Redis takes writes, and turns are being taken: not ready while the circuit breaker holds
        webhooks to the safety net, nor while Redis refuses writes (out of memory, a read-only
        replica) though it still answers PING. A probe that gets through closes the breaker."""
        # A write that leaves nothing behind: Redis refuses the SET when it cannot take writes.
        async with self._guard(), self.redis.pipeline(transaction=True) as pipe:
            pipe.set(HEALTH_KEY, b"1", ex=10)
            pipe.delete(HEALTH_KEY)
            return bool((await pipe.execute())[0])

    async def close(self) -> None:
        """Close the Redis client and what it holds."""
        await close(self.redis)


def _answered_with(reply: bytes, decide: Decide[T]) -> Decide[T]:
    """`decide`, told that this text is answered already, with `reply` (a repeat is answered so)."""

    async def answered(snapshot: Snapshot) -> Decision[T]:
        return await decide(replace(snapshot, replay=reply))

    return answered


def _reply_field(message_sid: str | None) -> bytes:
    """The field a message's reply is kept under: 8 bytes of a hash of the message id, which tell
    apart the texts of one conversation for a quarter of the id's memory."""
    return hashlib.blake2b(message_sid.encode(), digest_size=8).digest() if message_sid else b""


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """Values are bytes (the client does not decode), but the client's types allow str."""
    return value.encode() if isinstance(value, str) else value
