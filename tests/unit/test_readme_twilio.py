"""The texts docs/twilio.md tells operators to paste into Twilio are fit to send: 911 first, one segment."""

from __future__ import annotations

import re
from pathlib import Path

from ivr.core import gsm

README = Path(__file__).resolve().parents[2] / "docs" / "twilio.md"


def _help_replies() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Help reply**") :]
    section = section[: section.index("\n   - Opt-out and opt-in replies")]
    return re.findall(r"`([^`]+)`", section)


def test_the_help_replies_to_paste_lead_with_the_emergency_and_fit_one_message() -> None:
    """Each help reply in docs/twilio.md starts with the 911 notice, names STOP, and is one GSM-7 segment."""
    replies = [r for r in _help_replies() if "STOP" in r]
    assert len(replies) == 2
    english, spanish = replies
    assert english.startswith("If this is an emergency, call 911 now.")
    assert spanish.startswith("Si es una emergencia, llame al 911 ahora.")
    for reply in replies:
        assert gsm.encoding_of(reply) == "GSM-7"
        assert gsm.segments(reply) == 1
