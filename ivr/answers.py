"""Reading a yes, a no or neither from a text message, key presses or a speech transcript."""

from __future__ import annotations

import enum
import re
import unicodedata


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


# Words are compared after folding case and accents, so "Sí", "si" and "SI" are one word.
# The sets are shared by all languages: none of them means yes in one language and no in another,
# and a Spanish speaker who types "yes" should not be asked again.
YES_WORDS = frozenset({"yes", "y", "yeah", "yep", "yup", "yea", "ya", "si", "s", "1"})
NO_WORDS = frozenset({"no", "n", "nope", "nah", "2"})

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
    }
)

_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEAT = re.compile(r"([a-z])\1+")


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", bare).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


def from_text(text: str) -> Answer:
    """Yes or no from free text, strict about no: a missed red flag costs more than a question.

    Yes: the first word is a yes word and no word says no ("Yes.", "yes it is").
    No: a no word followed only by filler ("no", "No thanks", "nope, I don't").
    Anything else ("no idea", "yes no", "maybe") is unclear and is asked again.
    """
    tokens = [_squeeze(t) for t in words(text)]
    if not tokens:
        return Answer.UNCLEAR
    says_yes = any(t in YES_WORDS for t in tokens)
    says_no = any(t in NO_WORDS for t in tokens)
    first, rest = tokens[0], tokens[1:]
    if first in YES_WORDS and not says_no:
        return Answer.YES
    if first in NO_WORDS and not says_yes and all(t in NO_FILLER or t in NO_WORDS for t in rest):
        return Answer.NO
    return Answer.UNCLEAR


def _squeeze(word: str) -> str:
    """Runs of one letter made single, so "yesss" and "nooo" read as "yes" and "no"."""
    return _REPEAT.sub(r"\1", word)


def from_keys(digits: str) -> Answer:
    """One key press: 1 is yes, 2 is no, anything else is not an answer."""
    if digits == YES_KEY:
        return Answer.YES
    if digits == NO_KEY:
        return Answer.NO
    return Answer.UNCLEAR
