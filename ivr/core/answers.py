"""Reading a yes, a no or neither from a text message, key presses or a speech transcript."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ivr.core.words import squeeze, tokens


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


YES_KEY = "1"
NO_KEY = "2"

# Words that may follow a no without changing it ("no thanks", "nope, I don't", "no gracias").
NO_FILLER = frozenset(
    {
        "thanks",
        "thank",
        "you",
        "i",
        "don",
        "dont",
        "t",
        "not",
        "am",
        "im",
        "it",
        "is",
        "isn",
        "isnt",
        "did",
        "didn",
        "didnt",
        "have",
        "haven",
        "havent",
        "do",
        "gracias",
        "tengo",
        "es",
        "senor",
        "senora",
    }
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The folded words that mean yes and no. A flow's languages are merged into one vocabulary:
    none of their words means yes in one language and no in another (the flow checker proves it),
    and a Spanish speaker who types "yes" should not be asked again."""

    yes: frozenset[str]
    no: frozenset[str]

    @classmethod
    def merge(cls, pairs: Iterable[tuple[Iterable[str], Iterable[str]]]) -> Vocabulary:
        yes: set[str] = set()
        no: set[str] = set()
        for yes_words, no_words in pairs:
            yes.update(yes_words)
            no.update(no_words)
        return cls(frozenset(yes), frozenset(no))


def from_text(text: str, vocabulary: Vocabulary) -> Answer:
    """Yes or no from free text, strict about no: a missed red flag costs more than a question.

    Yes: the first word is a yes word and no word says no ("Yes.", "yes it is").
    No: a no word followed only by filler ("no", "No thanks", "nope, I don't").
    Anything else ("no idea", "yes no", "maybe") is unclear and is asked again.
    """
    words = [squeeze(t) for t in tokens(text)]
    if not words:
        return Answer.UNCLEAR
    says_yes = any(w in vocabulary.yes for w in words)
    says_no = any(w in vocabulary.no for w in words)
    first, rest = words[0], words[1:]
    if first in vocabulary.yes and not says_no:
        return Answer.YES
    if first in vocabulary.no and not says_yes and all(w in NO_FILLER or w in vocabulary.no for w in rest):
        return Answer.NO
    return Answer.UNCLEAR


def from_keys(digits: str) -> Answer:
    """One key press: 1 is yes, 2 is no, anything else is not an answer."""
    if digits == YES_KEY:
        return Answer.YES
    if digits == NO_KEY:
        return Answer.NO
    return Answer.UNCLEAR
