"""The session this process last saved for each conversation: its guess of what Redis holds."""

from __future__ import annotations

from collections import OrderedDict


class RecentSessions:
    """A bounded map of conversation to the session last saved here, least recently used out first.

    A guess, never a source of truth: the store checks it against Redis in the same script that
    saves, so a stale entry (another process took a turn) costs a second round trip, not a mistake.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def guess(self, key: str) -> bytes | None:
        """The session last saved here for a conversation, or None."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def remember(self, key: str, session: bytes | None) -> None:
        """Keep what was just saved (None forgets)."""
        if session is None:
            self._entries.pop(key, None)
            return
        self._entries[key] = session
        self._entries.move_to_end(key)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        """Drop the guess: the next turn reads what Redis holds."""
        self._entries.pop(key, None)
