"""Text folded for matching: case and accents gone, punctuation as clause breaks, contractions spelt out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Punctuation that ends a clause, and dashes (hyphen, en, em) with spaces around them.
_CLAUSE_PUNCTUATION = re.compile("[.,;:!?\u00bf\u00a1()\\[\\]\n\r\t]+|\\s[-\u2013\u2014]+\\s")
# Three or more of one letter: an elongation ("yesss", "nooo"). Two are left alone: they spell
# words ("feel" and "fell", "see", "good"), and squeezing them made "I feel the same" a fall.
_REPEAT = re.compile(r"([a-z])\1{2,}")
# A word is a run of letters and digits; a pictograph (an emoji such as a thumbs-up) is a word of its own.
_WORD_OR_SYMBOL = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")

# English contractions, with and without the apostrophe, as the words they stand for: "can't",
# "cant" and "cannot" all read "can not", so one phrase in a flow matches every way of typing it.
# After folding, an apostrophe is a space: "can't" arrives as "can t".
_CONTRACTIONS: dict[tuple[str, ...], tuple[str, ...]] = {}
for _stem, _full in (
    ("can", "can"),
    ("couldn", "could"),
    ("won", "will"),
    ("wouldn", "would"),
    ("don", "do"),
    ("doesn", "does"),
    ("didn", "did"),
    ("isn", "is"),
    ("aren", "are"),
    ("wasn", "was"),
    ("weren", "were"),
    ("haven", "have"),
    ("hasn", "has"),
    ("hadn", "had"),
    ("shouldn", "should"),
    ("ain", "is"),
):
    _CONTRACTIONS[(_stem, "t")] = (_full, "not")
    _CONTRACTIONS[(_stem + "t",)] = (_full, "not")
_CONTRACTIONS[("cannot",)] = ("can", "not")
for _pronoun, _verb in (("i", "m"), ("i", "ve"), ("you", "re"), ("we", "re"), ("they", "re")):
    _full_verb = {"m": "am", "ve": "have", "re": "are"}[_verb]
    _CONTRACTIONS[(_pronoun, _verb)] = (_pronoun, _full_verb)
    _CONTRACTIONS[(_pronoun + _verb,)] = (_pronoun, _full_verb)
for _pronoun in ("it", "he", "she", "that", "there", "what"):
    _CONTRACTIONS[(_pronoun, "s")] = (_pronoun, "is")
for _word in ("hes", "shes", "thats", "theres", "whats"):
    _CONTRACTIONS[(_word,)] = (_word[:-1], "is")
_CONTRACTIONS[("let", "s")] = ("let", "us")
_LONGEST_CONTRACTION = max(len(k) for k in _CONTRACTIONS)


def strip_accents(text: str) -> str:
    """The text casefolded and without its accents (É -> e, ñ -> n)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation turned into single spaces: "Sí." -> "si"."""
    return _NON_WORD.sub(" ", strip_accents(text)).strip()


def tokens(text: str) -> list[str]:
    """The words of a text, folded, in order."""
    return fold(text).split()


def clauses(text: str) -> list[list[str]]:
    """Folded words, grouped by the punctuation that separates clauses ("No, I can't breathe")."""
    return [words for part in _CLAUSE_PUNCTUATION.split(strip_accents(text)) if (words := tokens(part))]


def squeeze(word: str) -> str:
    """Runs of three or more of one letter made single, so "yesss" and "nooo" read as "yes" and
    "no" (two, as in "feel" or "noo", are kept)."""
    return _REPEAT.sub(r"\1", word)


def _symbols_and_words(text: str) -> list[str]:
    """Folded words, and each pictograph as a word; other punctuation and skin-tone or
    variation marks are dropped."""
    found: list[str] = []
    for token in _WORD_OR_SYMBOL.findall(strip_accents(text)):
        if token[0].isalnum() or unicodedata.category(token) == "So":
            found.append(token)
    return found


def _spell_out(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(_LONGEST_CONTRACTION, 0, -1):
            full = _CONTRACTIONS.get(tuple(words[i : i + size]))
            if full is not None:
                out.extend(full)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


def normal(words: Iterable[str]) -> list[str]:
    """Words as they are matched: contractions spelt out, then repeated letters squeezed.
    Twice, so that "dontt" reads like "don't"; the result of a second pass is unchanged."""
    once = [squeeze(w) for w in _spell_out(list(words))]
    return [squeeze(w) for w in _spell_out(once)]


def normal_words(text: str) -> tuple[str, ...]:
    """A phrase or a message as the words it is matched by, ignoring punctuation."""
    return tuple(normal(_symbols_and_words(text)))


@dataclass(frozen=True, slots=True)
class Said:
    """A text or transcript as matched: normalised words, by clause (punctuation ends a clause)."""

    clauses: tuple[tuple[str, ...], ...]
    words: tuple[str, ...] = ()  # all of them, in order

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(w for clause in self.clauses for w in clause))

    @classmethod
    def of(cls, text: str) -> Said:
        """What was said, split into clauses of folded words."""
        parts = _CLAUSE_PUNCTUATION.split(text)
        return cls(tuple(words for part in parts if (words := normal_words(part))))

    @property
    def empty(self) -> bool:
        """Whether nothing was said."""
        return not self.clauses
