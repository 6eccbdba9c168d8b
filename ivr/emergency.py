"""Spotting free text that describes an emergency, and not mistaking its negation for one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ivr.words import clauses

# How many words before a phrase a negation still applies to: "I don't have trouble breathing"
# puts "don" three words before "trouble breathing".
NEGATION_REACH = 3


@dataclass(frozen=True, slots=True)
class EmergencyPhrases:
    """Phrases (as folded word sequences) that describe an emergency, with the languages each
    belongs to, and the words that negate them or end a clause, merged over a flow's languages."""

    phrases: Mapping[tuple[str, ...], frozenset[str]]
    negations: frozenset[str]
    clause_breaks: frozenset[str]

    @classmethod
    def merge(
        cls, languages: Iterable[tuple[str, Iterable[str], Iterable[str], Iterable[str]]]
    ) -> EmergencyPhrases:
        phrases: dict[tuple[str, ...], set[str]] = {}
        negations: set[str] = set()
        breaks: set[str] = set()
        for lang, phrase_texts, negation_words, break_words in languages:
            for text in phrase_texts:
                phrases.setdefault(tuple(text.split()), set()).add(lang)
            negations.update(negation_words)
            breaks.update(break_words)
        # Longest first, so "no puedo respirar" is found before a shorter phrase inside it.
        ordered = sorted(phrases, key=lambda p: (-len(p), p))
        return cls({p: frozenset(phrases[p]) for p in ordered}, frozenset(negations), frozenset(breaks))

    def find(self, text: str) -> Match | None:
        """The first emergency phrase the text states (not negates), or None."""
        for clause in clauses(text):
            for part in _split(clause, self.clause_breaks):
                for phrase, langs in self.phrases.items():
                    for start in _occurrences(part, phrase):
                        before = part[max(0, start - NEGATION_REACH) : start]
                        if not any(word in self.negations for word in before):
                            return Match(phrase, langs)
        return None


@dataclass(frozen=True, slots=True)
class Match:
    """An emergency phrase found in a text, and the languages it is a phrase of."""

    phrase: tuple[str, ...]
    langs: frozenset[str]


def _split(words: list[str], breaks: frozenset[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        if word in breaks:
            parts.append([])
        else:
            parts[-1].append(word)
    return [p for p in parts if p]


def _occurrences(words: list[str], phrase: tuple[str, ...]) -> list[int]:
    size = len(phrase)
    return [i for i in range(len(words) - size + 1) if tuple(words[i : i + size]) == phrase]
