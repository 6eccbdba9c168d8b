"""What the service layer needs from the store of conversations, declared as a Protocol: Redis
provides it (ivr.store.sessions.SessionStore), and the service tests use one in memory."""

from __future__ import annotations

from typing import Protocol, TypeVar

from ivr.store.keys import Keys
from ivr.store.sessions import Decide

T = TypeVar("T")


class ConversationStore(Protocol):
    """Conversations, their replies, opt-outs and short-lived marks, each kept atomically.

    Every failure to reach the store is raised as ivr.store.errors.StoreUnavailable (the webhook
    then answers with the safety net); nothing else of the backend's escapes.
    """

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
        """Decide a turn on what is stored (a Snapshot) and save its Decision atomically: the
        session (None deletes it) with `ttl_seconds`, and the reply to `message_sid` for
        `replay_ttl`. `decide` may run more than once and must have no effects of its own; a
        repeat of an answered message reaches it as Snapshot.replay. With a `count_window`, the
        text is counted and Snapshot.texts_in_window says how many came in the window."""
        ...

    async def opt_out(self, keys: Keys, ttl_seconds: int) -> None:
        """Remember the sender opted out (for `ttl_seconds`), and end any conversation of theirs."""
        ...

    async def opt_in(self, keys: Keys) -> bool:
        """Forget an opt-out; True when there was one."""
        ...

    async def opted_out(self, keys: Keys) -> bool:
        """Whether the sender has opted out."""
        ...

    async def mark(self, key: str, ttl_seconds: int) -> None:
        """Set a flag that expires."""
        ...

    async def take(self, key: str) -> bool:
        """Whether a flag was set; it is gone afterwards."""
        ...

    async def keep(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Keep a value for a while."""
        ...

    async def take_value(self, key: str) -> bytes | None:
        """A kept value, deleted as it is read: the second of two readers gets None."""
        ...

    async def finish_call(self, keys: Keys, tombstone_ttl: int) -> bytes | None:
        """Remove a finished call's session and leave a tombstone for `tombstone_ttl` seconds so a
        late webhook revives nothing; returns what the session was."""
        ...
