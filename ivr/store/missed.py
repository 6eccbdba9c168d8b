"""Texts whose turn may have been saved though the sender was answered with the safety net."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_PER_CONVERSATION = 16


class MissedReplies:
    """Per conversation, the reply fields of texts whose turn failed in this process, for a while.

    A turn can fail after Redis ran its script: Redis is stopped (SIGSTOP, a long fork) between
    running it and writing the reply, and the client gives up. The sender got the safety net, not
    the reply that was saved; their next text, usually the same answer again, would land on a
    question they never saw. So the next turn here first looks for a reply recorded for one of
    these texts, and sends that instead (see SessionStore.turn). Bounded, least recently noted out.
    """

    def __init__(self, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.clock = clock
        self._entries: OrderedDict[str, tuple[list[bytes], float]] = OrderedDict()

    def note(self, key: str, field: bytes, ttl_seconds: float) -> None:
        """A text of this conversation failed; its reply, if saved, is under `field`."""
        fields, _ = self._entries.pop(key, ([], 0.0))
        fields = [*fields, field][-MAX_PER_CONVERSATION:]
        self._entries[key] = (fields, self.clock() + ttl_seconds)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def take(self, key: str) -> list[bytes]:
        """The fields noted for a conversation, oldest first, and forgotten; [] when none or stale."""
        fields, until = self._entries.pop(key, ([], 0.0))
        return fields if until > self.clock() else []
