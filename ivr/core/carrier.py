"""Words carriers act on when they are a whole text message: opting out, opting back in, asking for help;
and how Twilio reports that it acted on one (OptOutType)."""

from __future__ import annotations

from typing import Literal

from ivr.core.words import fold

OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN = frozenset({"start", "unstop"})
HELP = frozenset({"help", "info"})
RESERVED = OPT_OUT | OPT_IN | HELP
# Twilio's default opt-in keywords are START, YES and UNSTOP (Twilio's "support for opt-out keywords"
# article). YES is also the line's own answer word, so it is not RESERVED: it opts back in only a
# sender who has opted out, as it does at Twilio.
OPT_IN_WHEN_OPTED_OUT = frozenset({"yes"})

Keyword = Literal["stop", "start", "help"]

# With Advanced Opt-Out on a Messaging Service, Twilio adds OptOutType (STOP, START or HELP) to the
# incoming-message webhook of a text that matched one of the service's keywords, after acting on it
# and sending the reply configured there ("Getting Started with Advanced Opt-Out", Twilio support).
_OPT_OUT_TYPES: dict[str, Keyword] = {"STOP": "stop", "START": "start", "HELP": "help"}


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


def reported(opt_out_type: str) -> Keyword | None:
    """What Twilio says it did with a text (its OptOutType parameter), or None when it says nothing."""
    return _OPT_OUT_TYPES.get(opt_out_type.strip().upper())


def opts_in_when_opted_out(body: str) -> bool:
    """A whole text that opts back in a sender who has opted out (START, UNSTOP, and YES as at Twilio)."""
    word = fold(body)
    return word in OPT_IN or word in OPT_IN_WHEN_OPTED_OUT
