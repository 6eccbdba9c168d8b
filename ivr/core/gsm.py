"""SMS encoding arithmetic: whether text fits GSM-7, and how many segments it costs."""

from __future__ import annotations

from typing import Literal

# GSM 03.38 default alphabet, and the extension table whose characters take two septets.
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]

# Characters per message: a single segment, and each segment of a concatenated message.
_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def encoding_of(text: str) -> Encoding:
    """The encoding a handset must use: one character outside GSM-7 forces UCS-2 for all."""
    if all(ch in _BASIC or ch in _EXTENDED for ch in text):
        return "GSM-7"
    return "UCS-2"


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 alphabet (with its extension)."""
    return encoding_of(text) == "GSM-7"


def non_gsm7_characters(text: str) -> list[str]:
    """The characters that push a text out of GSM-7, in order of first appearance."""
    seen: list[str] = []
    for ch in text:
        if ch not in _BASIC and ch not in _EXTENDED and ch not in seen:
            seen.append(ch)
    return seen


def length_in_units(text: str) -> int:
    """Length in septets for GSM-7 (extension characters count two) or UTF-16 units for UCS-2."""
    if encoding_of(text) == "GSM-7":
        return sum(2 if ch in _EXTENDED else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments the text is billed and delivered as."""
    single, multi = _LIMITS[encoding_of(text)]
    units = length_in_units(text)
    if units <= single:
        return 1
    return -(-units // multi)


def max_units(encoding: Encoding, max_segments: int) -> int:
    """The longest text, in units, that fits a number of segments (GSM-7 2 -> 306, UCS-2 2 -> 134)."""
    single, multi = _LIMITS[encoding]
    return single if max_segments == 1 else multi * max_segments
