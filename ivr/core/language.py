"""Choosing a conversation's language from what a texter writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ivr.core.words import normal_words, tokens


@dataclass(frozen=True, slots=True)
class LanguageCues:
    """Per language: words that ask for it ("español"), and words that mark text written in it."""

    switch: Mapping[str, frozenset[str]]  # folded phrases, one word or several
    markers: Mapping[str, frozenset[str]]

    def requested(self, text: str | Sequence[str], *, current: str | None = None) -> str | None:
        """The language a message asks for by keyword or phrase, anywhere in it ("ESPAÑOL", "in
        english"), given as text or as its normalised words. The longest phrase found wins, so "no
        entiendo inglés" asks for Spanish although "inglés" alone asks for English; between phrases
        as long, one that is not the `current` language ("no speak english, spanish please" in an
        English conversation)."""
        words = normal_words(text) if isinstance(text, str) else text
        joined = f" {' '.join(words)} "
        best: tuple[int, bool, str] | None = None
        for lang, phrases in self.switch.items():
            for phrase in phrases:
                if f" {phrase} " not in joined:
                    continue
                rank = (phrase.count(" ") + 1, lang != current, lang)
                if best is None or rank[:2] > best[:2]:
                    best = rank
        return best[2] if best is not None else None

    def written_in(self, text: str, default: str) -> str:
        """The language a first text is clearly written in, else `default`.

        Clearly: more of one language's marker words than of any other's.
        """
        words = tokens(text)
        counts = {lang: sum(w in markers for w in words) for lang, markers in self.markers.items()}
        best = max(counts.values(), default=0)
        leaders = [lang for lang, count in counts.items() if count == best]
        if best == 0 or len(leaders) > 1:
            return default
        return leaders[0]
