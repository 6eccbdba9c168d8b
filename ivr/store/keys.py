"""The Redis keys of one conversation, all in one Cluster hash slot."""

from __future__ import annotations

from dataclasses import dataclass


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
        """The conversation's session."""
        return f"{self._base}:s"

    @property
    def replies(self) -> str:
        """A hash of message id to the reply given to it: one key however many texts, which
        costs far less memory than one key per message."""
        return f"{self._base}:r"

    @property
    def counter(self) -> str:
        """How many texts the sender sent in the rate-limit window."""
        return f"{self._base}:n"

    @property
    def opt_out(self) -> str:
        """Present while the sender has opted out."""
        return f"{self._base}:o"

    @property
    def finished(self) -> str:
        """Present for a while after a call ended, so a late webhook revives nothing."""
        return f"{self._base}:x"

    @property
    def accepted(self) -> str:
        """The nurse pressed the key to take the call put through at this prompt."""
        return f"{self._base}:a"

    @property
    def offer(self) -> str:
        """The advice a call's outcome offered by text, until the caller asks for it or it lapses."""
        return f"{self._base}:f"
