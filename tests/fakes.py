"""An in-memory store of conversations for service tests: the ConversationStore Protocol kept in a
dict, with the Redis store's meaning (tests/integration/test_store_contract.py runs the same
checks on both)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

from ivr.store.errors import StoreUnavailable
from ivr.store.keys import Keys
from ivr.store.sessions import Decide, Snapshot

T = TypeVar("T")


class InMemoryConversations:
    """Values with expiry times on an injected clock; one lock per conversation makes each turn
    atomic, as a script does in Redis. `failing` makes every call raise StoreUnavailable."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failing = False
        self._values: dict[str, tuple[bytes, float]] = {}
        self._replies: dict[str, tuple[dict[str, bytes], float]] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def locked(self, keys: Keys) -> bool:
        """Whether a turn of this conversation is under way (its lock is held)."""
        return self._locks[keys.session].locked()

    def _check(self) -> None:
        if self.failing:
            raise StoreUnavailable("the in-memory store was told to fail")

    def _get(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None or found[1] <= self.clock():
            self._values.pop(key, None)
            return None
        return found[0]

    def _set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._values[key] = (value, self.clock() + ttl_seconds)

    def _delete(self, key: str) -> bool:
        present = self._get(key) is not None
        self._values.pop(key, None)
        return present

    def _reply(self, key: str, field: str) -> bytes | None:
        found = self._replies.get(key)
        if found is None or found[1] <= self.clock():
            self._replies.pop(key, None)
            return None
        return found[0].get(field)

    def _count(self, key: str, window: int) -> int:
        count = int(self._get(key) or b"0") + 1
        expires = self._values[key][1] if key in self._values else self.clock() + window
        self._values[key] = (str(count).encode(), expires)
        return count

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
        self._check()
        async with self._locks[keys.session]:
            count = self._count(keys.counter, count_window) if count_window > 0 else 0
            snapshot = Snapshot(
                session=self._get(keys.session),
                replay=self._reply(keys.replies, message_sid) if message_sid else None,
                texts_in_window=count,
                opted_out=self._get(keys.opt_out) is not None,
                finished=self._get(keys.finished) is not None,
            )
            unusual = (
                snapshot.replay is not None
                or snapshot.opted_out
                or snapshot.finished
                or (count_limit > 0 and count > count_limit)
            )
            # Redis reports the rest of what is stored only when something is unusual (the usual turn
            # is decided on the session alone): the same here, so no test leans on more.
            decision = await decide(snapshot if unusual else Snapshot(session=snapshot.session))
            if unusual and (
                snapshot.replay is not None
                or (decision.session == snapshot.session and decision.reply is None)
            ):
                return decision.result  # nothing to write, as in Redis
            if decision.session is None:
                self._delete(keys.session)
            else:
                self._set(keys.session, decision.session, ttl_seconds)
            if message_sid and decision.reply:
                replies = self._replies.get(keys.replies, ({}, 0.0))[0]
                replies[message_sid] = decision.reply
                self._replies[keys.replies] = (replies, self.clock() + replay_ttl)
            return decision.result

    async def opt_out(self, keys: Keys, ttl_seconds: int) -> None:
        self._check()
        self._delete(keys.session)
        self._set(keys.opt_out, b"1", ttl_seconds)

    async def opt_in(self, keys: Keys) -> bool:
        self._check()
        return self._delete(keys.opt_out)

    async def opted_out(self, keys: Keys) -> bool:
        self._check()
        return self._get(keys.opt_out) is not None

    async def mark(self, key: str, ttl_seconds: int) -> None:
        self._check()
        self._set(key, b"1", ttl_seconds)

    async def take(self, key: str) -> bool:
        self._check()
        return self._delete(key)

    async def keep(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._check()
        self._set(key, value, ttl_seconds)

    async def take_value(self, key: str) -> bytes | None:
        self._check()
        value = self._get(key)
        self._delete(key)
        return value

    async def finish_call(self, keys: Keys, tombstone_ttl: int) -> bytes | None:
        self._check()
        session = self._get(keys.session)
        self._delete(keys.session)
        self._set(keys.finished, b"1", tombstone_ttl)
        return session
