"""Spotting free text that describes an emergency, and not mistaking its negation for one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.words import clauses

# How many words before a phrase a negation still applies to: "I don't have trouble breathing"
# puts "don" three words before "trouble breathing".
NEGATION_REACH = 3


@dataclass(frozen=True, slots=True)
class EmergencyPhrases:
    """Phrases (as folded word sequences) that describe an emergency, and the words that negate
    them or end a clause, merged over a flow's languages."""

    phrases: tuple[tuple[str, ...], ...]
    negations: frozenset[str]
    clause_breaks: frozenset[str]

    @classmethod
    def merge(
        cls, languages: Iterable[tuple[Iterable[str], Iterable[str], Iterable[str]]]
    ) -> EmergencyPhrases:
        phrases: set[tuple[str, ...]] = set()
        negations: set[str] = set()
        breaks: set[str] = set()
        for phrase_texts, negation_words, break_words in languages:
            phrases.update(tuple(p.split()) for p in phrase_texts)
            negations.update(negation_words)
            breaks.update(break_words)
        return cls(tuple(sorted(phrases, key=len, reverse=True)), frozenset(negations), frozenset(breaks))

    def find(self, text: str) -> tuple[str, ...] | None:
        """The first emergency phrase the text states (not negates), or None."""
        for clause in clauses(text):
            for part in _split(clause, self.clause_breaks):
                for phrase in self.phrases:
                    for start in _occurrences(part, phrase):
                        before = part[max(0, start - NEGATION_REACH) : start]
                        if not any(word in self.negations for word in before):
                            return phrase
        return None


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
