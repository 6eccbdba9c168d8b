"""Keyed hashes that stand in for phone numbers, and step tokens that carry nothing personal."""

from __future__ import annotations

import base64
import hashlib
import hmac


class Pseudonyms:
    """HMAC-SHA256 under a secret key: stable for one key, useless to anyone without it.

    A plain hash of a phone number can be reversed by hashing every number in a country;
    a keyed hash cannot without the key.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, label: str, value: str, length: int) -> str:
        mac = hmac.new(self._key, f"{label}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")[:length]

    def sms_conversation(self, our_number: str, sender: str) -> str:
        """One SMS conversation: our number and the sender's, so two lines never share state."""
        return self._digest("sms", f"{our_number}\x00{sender}", 22)

    def caller(self, number: str) -> str:
        """A person, across conversations and channels, for counting without knowing who."""
        return self._digest("caller", number, 22)

    def step_token(self, conversation: str, turn: int) -> str:
        """Names one prompt of a call, so a replayed or stale answer is recognised."""
        return self._digest("step", f"{conversation}\x00{turn}", 12)
