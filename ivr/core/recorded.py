"""A reply recorded against the message it answered, so a repeat of that message gets the same reply."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ivr.core.engine import Output


@dataclass(frozen=True, slots=True)
class Recorded:
    """Which flow version answered (its digest), and what it said (as engine output, not text:
    small and exact)."""

    digest: str
    output: Output


# Output's flags, one bit each. A record made before a flag existed lacks its bit, which reads as
# False: the value that flag had then. Bit 2 was the old language menu's; it is not reused.
_KEYS_ONLY, _HANDOFF, _OFFERS, _SIMPLE = 1, 4, 8, 16


def encode(recorded: Recorded) -> bytes:
    """A short JSON array: one is kept per text for a while, so its size is memory per conversation."""
    o = recorded.output
    flags = (_KEYS_ONLY * o.keys_only) | (_HANDOFF * o.handoff) | (_OFFERS * o.offers) | (_SIMPLE * o.simple)
    data = [recorded.digest, o.lang, list(o.notices), o.ask or "", o.outcome or "", flags]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def decode(raw: bytes) -> Recorded | None:
    """The recorded reply, or None when the bytes are not one (it is then answered afresh)."""
    try:
        digest, lang, notices, ask, outcome, flags = json.loads(raw)
        output = Output(
            lang=str(lang),
            notices=tuple(str(n) for n in notices),
            ask=str(ask) or None,
            outcome=str(outcome) or None,
            keys_only=bool(int(flags) & _KEYS_ONLY),
            handoff=bool(int(flags) & _HANDOFF),
            offers=bool(int(flags) & _OFFERS),
            simple=bool(int(flags) & _SIMPLE),
        )
        return Recorded(str(digest), output)
    except (ValueError, KeyError, TypeError):
        return None
