"""How long a call speaks: the words of its <Say>s, at a normal speaking rate, up to a passage."""

from __future__ import annotations

import re
from collections.abc import Sequence

WORDS_PER_MINUTE = 150

# A word as it is said. Each digit is a word of its own: the voice renderer says every number
# digit by digit (<say-as interpret-as="digits">), so "911" is three words, "nine one one".
WORD = re.compile(r"\d|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")  # don't, don\u2019t: one word


def words(text: str) -> int:
    """How many words saying `text` takes."""
    return len(WORD.findall(text))


def seconds(count: int) -> float:
    """How long `count` words take to say."""
    return count * 60 / WORDS_PER_MINUTE


def most_words(limit_seconds: float) -> int:
    """The most words that can be said within `limit_seconds`."""
    return int(limit_seconds * WORDS_PER_MINUTE / 60)


def words_before(says: Sequence[str], passage: str) -> int | None:
    """Words said, <Say> after <Say>, before `passage` begins; None when it is never said."""
    count = 0
    for said in says:
        at = said.find(passage)
        if at >= 0:
            return count + words(said[:at])
        count += words(said)
    return None


def words_through(says: Sequence[str], passage: str) -> int | None:
    """Words said up to the end of `passage`; None when it is never said."""
    before = words_before(says, passage)
    return None if before is None else before + words(passage)
