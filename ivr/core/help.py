"""Spotting a request for help ("help me", "ayúdame"): a help phrase with nothing else but filler."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ivr.core import carrier
from ivr.core.words import Said, normal_words

# The carrier's own help words ("HELP", "INFO") ask for help when spoken on a call too; by text,
# the carrier path answers them before a conversation sees them.
CARRIER_HELP = frozenset(normal_words(w) for w in carrier.HELP)
# A request for help is short; a longer message is something else, read as an answer.
MAX_WORDS = 8


@dataclass(frozen=True, slots=True)
class HelpPhrases:
    """Help phrases per language (normalised), and the filler words that may come with them."""

    phrases: Mapping[tuple[str, ...], frozenset[str]]
    filler: frozenset[str]

    @classmethod
    def merge(cls, by_language: Iterable[tuple[str, Iterable[str], Iterable[str]]]) -> HelpPhrases:
        """From (language, help phrases, filler words) per language."""
        phrases: dict[tuple[str, ...], set[str]] = {}
        filler: set[str] = set()
        for lang, texts, filler_words in by_language:
            for text in texts:
                phrases.setdefault(normal_words(text), set()).add(lang)
            filler.update(filler_words)
        return cls({p: frozenset(langs) for p, langs in phrases.items() if p}, frozenset(filler))

    def asked(self, said: Said) -> frozenset[str] | None:
        """The languages of the help phrase a message is, or None when it is something else.
        Empty for the carrier's words ("help"), which belong to no one language of the flow."""
        words = said.words
        if not words or len(words) > MAX_WORDS:
            return None
        for phrase, langs in self.phrases.items():
            if _only(words, phrase, self.filler):
                return langs
        if any(_only(words, phrase, self.filler) for phrase in CARRIER_HELP):
            return frozenset()
        return None


def _only(words: tuple[str, ...], phrase: tuple[str, ...], filler: frozenset[str]) -> bool:
    """Whether `words` are `phrase` with nothing but filler before or after it."""
    for start in range(len(words) - len(phrase) + 1):
        if words[start : start + len(phrase)] == phrase:
            others = words[:start] + words[start + len(phrase) :]
            return all(w in filler for w in others)
    return False
