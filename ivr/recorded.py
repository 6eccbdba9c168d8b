"""A reply recorded against the message it answered, so a repeat of that message gets the same reply."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ivr.engine import Output


@dataclass(frozen=True, slots=True)
class Recorded:
    """Which flow version answered, and what it said (as engine output, not text: small and exact)."""

    flow: str
    digest: str
    output: Output


def encode(recorded: Recorded) -> bytes:
    o = recorded.output
    data: dict[str, object] = {"f": recorded.flow, "d": recorded.digest, "l": o.lang, "n": list(o.notices)}
    if o.ask is not None:
        data["a"] = o.ask
    if o.outcome is not None:
        data["o"] = o.outcome
    if o.keys_only:
        data["k"] = 1
    if o.every_language:
        data["e"] = 1
    if o.handoff:
        data["h"] = 1
    return json.dumps(data, separators=(",", ":")).encode()


def decode(raw: bytes) -> Recorded | None:
    """The recorded reply, or None when the bytes are not one (it is then answered afresh)."""
    try:
        data = json.loads(raw)
        output = Output(
            lang=str(data["l"]),
            notices=tuple(str(n) for n in data["n"]),
            ask=str(data["a"]) if "a" in data else None,
            outcome=str(data["o"]) if "o" in data else None,
            keys_only=bool(data.get("k", 0)),
            every_language=bool(data.get("e", 0)),
            handoff=bool(data.get("h", 0)),
        )
        return Recorded(str(data["f"]), str(data["d"]), output)
    except (ValueError, KeyError, TypeError):
        return None
