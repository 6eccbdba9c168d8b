"""Words carriers act on when they are a whole text message: opting out, opting back in, asking for help."""

from __future__ import annotations

from typing import Literal

from ivr.core.words import fold

OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN = frozenset({"start", "unstop"})
HELP = frozenset({"help", "info"})
RESERVED = OPT_OUT | OPT_IN | HELP

Keyword = Literal["stop", "start", "help"]


def keyword(body: str) -> Keyword | None:
    """The carrier keyword a text is, when the whole text is one ("STOP", "stop.", " Help "), else None."""
    word = fold(body)
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN:
        return "start"
    if word in HELP:
        return "help"
    return None
