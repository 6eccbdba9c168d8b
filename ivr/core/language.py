"""Choosing a conversation's language from what a texter writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.core.words import tokens


@dataclass(frozen=True, slots=True)
class LanguageCues:
    """Per language: words that ask for it ("español"), and words that mark text written in it."""

    switch: Mapping[str, frozenset[str]]
    markers: Mapping[str, frozenset[str]]

    def requested(self, text: str) -> str | None:
        """The language a message asks for by keyword, anywhere in it ("ESPAÑOL", "in english")."""
        words = set(tokens(text))
        for lang, keywords in self.switch.items():
            if words & keywords:
                return lang
        return None

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
