"""Recorded replies: what is kept per text to answer a repeat must decode to the same output."""

from __future__ import annotations

import pytest

from ivr.core import recorded
from ivr.core.engine import Output
from ivr.core.recorded import Recorded

OUTPUTS = [
    Output("en", notices=("intro",), ask="breathing"),
    Output("es", notices=("unclear", "again"), ask="onset", keys_only=True),
    Output("en", outcome="emergency"),
    Output("en", ask="face", handoff=True, keys_only=True),
    Output("es", notices=("not_understood",), ask="fall", simple=True),
    Output("en", notices=("help",)),
    Output("en", notices=("no_input",), ask="breathing", offers=True, simple=True),
    Output("es", ask="face", keys_only=True, offers=True, handoff=True),
]


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_recorded_reply_decodes_to_the_same_output(output: Output) -> None:
    original = Recorded("0123456789abcdef", output)
    assert recorded.decode(recorded.encode(original)) == original


def test_a_recorded_reply_is_small() -> None:
    """One is kept per text for the replay window: its size is memory per conversation."""
    raw = recorded.encode(Recorded("0123456789abcdef", Output("es", notices=("unclear",), ask="breathing")))
    # Redis keeps a small hash compact (listpack) only while every value is at most 64 bytes.
    assert len(raw) <= 64, raw


def test_a_reply_recorded_by_an_earlier_version_still_decodes() -> None:
    """Records written before the simple re-ask (no bit 16) or with the old language menu's bit (2,
    no longer used) read as the output they recorded."""
    old = b'["0123456789abcdef","en",["intro"],"breathing","",10]'
    assert recorded.decode(old) == Recorded(
        "0123456789abcdef", Output("en", notices=("intro",), ask="breathing", offers=True)
    )


@pytest.mark.parametrize("raw", [b"", b"{}", b"[1,2]", b"not json", b'["d","en",[],"","","x"]'])
def test_anything_else_is_not_a_recorded_reply(raw: bytes) -> None:
    assert recorded.decode(raw) is None
