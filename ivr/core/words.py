"""Text folded for matching: case and accents removed, punctuation as clause breaks."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Punctuation that ends a clause, and dashes (hyphen, en, em) with spaces around them.
_CLAUSE_PUNCTUATION = re.compile("[.,;:!?\u00bf\u00a1()\\[\\]\n\r\t]+|\\s[-\u2013\u2014]+\\s")
_REPEAT = re.compile(r"([a-z])\1+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation turned into single spaces: "Sí." -> "si"."""
    return _NON_WORD.sub(" ", strip_accents(text)).strip()


def tokens(text: str) -> list[str]:
    return fold(text).split()


def clauses(text: str) -> list[list[str]]:
    """Folded words, grouped by the punctuation that separates clauses ("No, I can't breathe")."""
    return [words for part in _CLAUSE_PUNCTUATION.split(strip_accents(text)) if (words := tokens(part))]


def squeeze(word: str) -> str:
    """Runs of one letter made single, so "yesss" and "nooo" read as "yes" and "no"."""
    return _REPEAT.sub(r"\1", word)
