"""Sessions in Redis: load, transition and save each conversation atomically, with idle TTLs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis

log = logging.getLogger(__name__)

T = TypeVar("T")

# Compare-and-set: the new value is written only if the key still holds what the caller read.
# On a conflict the current value comes back, so a retry needs no extra GET.
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then
  return {0, current}
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return {1, ''}
"""

MAX_ATTEMPTS = 50

Transition = Callable[[bytes | None], Awaitable[tuple[bytes | None, T]]]


class StoreContention(RuntimeError):
    """A conversation changed under us on every attempt; the caller answers with the safety net."""


def conversation_key(channel: str, conversation: str) -> str:
    """One conversation's session key. The braces are a Redis Cluster hash tag: every key of one
    conversation lands on one slot, so a script may touch them together."""
    return f"ivr:{{{channel}:{conversation}}}:s"


class KeyLocks:
    """Serialises transitions on one key inside this process, so its own webhooks never race
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


class SessionStore:
    """Session persistence over a redis.asyncio client (real Redis, or fakeredis in-process)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._cas = redis.register_script(_COMPARE_AND_SET)
        self._locks = KeyLocks()

    async def transition(self, key: str, ttl_seconds: int, fn: Transition[T]) -> T:
        """Apply `fn` to the stored value and save its result, atomically.

        `fn` maps the current bytes (None when absent) to the new bytes (None to delete) and a
        result. It must not have effects of its own: under contention it runs again on the newer
        value, which is how two webhooks for one conversation at the same moment are applied one
        after the other.
        """
        async with self._locks.hold(key):
            current = _as_bytes(await self.redis.get(key))
            for attempt in range(MAX_ATTEMPTS):
                new, result = await fn(current)
                if new == current and new is None:
                    return result
                reply: list[Any] = await self._cas(
                    keys=[key], args=[current or b"", new or b"", ttl_seconds * 1000]
                )
                if int(reply[0]) == 1:
                    return result
                current = _as_bytes(reply[1]) or None
                # Another process won; a little jitter keeps several from colliding again in step.
                await asyncio.sleep(random.uniform(0, 0.001 * (attempt + 1)))  # noqa: S311 - not crypto
        raise StoreContention(key)

    async def delete(self, key: str) -> None:
        await self.redis.delete(key)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """Values are bytes (the client does not decode), but the client's types allow str."""
    return value.encode() if isinstance(value, str) else value
