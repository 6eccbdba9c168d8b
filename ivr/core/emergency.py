"""Spotting free text that describes an emergency, and not mistaking its negation for one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ivr.core.words import clauses

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
    by_first_word: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Phrases by their first word, longest first: a text is scanned once, word by word.
        index: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.phrases:
            index.setdefault(phrase[0], []).append(phrase)
        object.__setattr__(self, "by_first_word", {w: tuple(p) for w, p in index.items()})

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
                for start, word in enumerate(part):
                    for phrase in self.by_first_word.get(word, ()):
                        if tuple(part[start : start + len(phrase)]) != phrase:
                            continue
                        before = part[max(0, start - NEGATION_REACH) : start]
                        if not any(w in self.negations for w in before):
                            return Match(phrase, self.phrases[phrase])
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
