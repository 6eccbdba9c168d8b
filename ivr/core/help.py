"""Spotting a request for help ("help me", "ayúdame"): help phrases with nothing else but filler."""

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
        langs: set[str] = set()
        rest = list(words)
        # Longest first, so "no se que hacer" is taken whole before anything shorter in it.
        for phrase, found in sorted(self.phrases.items(), key=lambda item: -len(item[0])):
            rest, cut = _without(rest, phrase)
            if cut:
                langs |= found
        if langs and all(w in self.filler for w in rest):
            return frozenset(langs)
        carrier_rest = list(words)
        cut_any = False
        for phrase in CARRIER_HELP:
            carrier_rest, cut = _without(carrier_rest, phrase)
            cut_any = cut_any or cut
        if cut_any and all(w in self.filler for w in carrier_rest):
            return frozenset()
        return None


def _without(words: list[str], phrase: tuple[str, ...]) -> tuple[list[str], bool]:
    """`words` with every occurrence of `phrase` taken out, and whether there was one."""
    out: list[str] = []
    cut = False
    i = 0
    while i < len(words):
        if tuple(words[i : i + len(phrase)]) == phrase:
            i += len(phrase)
            cut = True
        else:
            out.append(words[i])
            i += 1
    return out, cut
