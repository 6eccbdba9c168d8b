"""SMS encoding and segment arithmetic."""

from __future__ import annotations

import pytest

from ivr.core import gsm


def test_plain_english_is_gsm7() -> None:
    """Ordinary letters, digits and punctuation stay in GSM-7."""
    assert gsm.encoding_of("Call 911 now. Reply Y or N (1/2)!") == "GSM-7"


@pytest.mark.parametrize("text", ["It’s", "a — b", "ok 🙂", "“quoted”", "sí"])
def test_one_character_outside_gsm7_forces_ucs2(text: str) -> None:
    """Smart quotes, long dashes, emoji and accents like í switch the whole message to UCS-2."""
    assert gsm.encoding_of(text) == "UCS-2"
    assert gsm.non_gsm7_characters(text)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("í" * 70, 1),
        ("í" * 71, 2),
        ("í" * 134, 2),
        ("í" * 135, 3),
        ("[" * 80, 1),
        ("[" * 81, 2),
    ],
)
def test_segments(text: str, segments: int) -> None:
    """160/153 characters per segment in GSM-7, 70/67 in UCS-2; extension characters count twice."""
    assert gsm.segments(text) == segments


def test_two_segment_limits() -> None:
    """Two segments hold 306 GSM-7 characters or 134 UCS-2 ones."""
    assert gsm.max_units("GSM-7", 2) == 306
    assert gsm.max_units("UCS-2", 2) == 134
    assert gsm.max_units("GSM-7", 1) == 160
