"""Spotting a request for help ("help me", "ayúdame"): help phrases with nothing else but filler."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ivr.core import carrier
from ivr.core.words import Said, normal_words

# The carrier's own help words ("HELP", "INFO") ask for help when spoken on a call too; by text,
# the carrier path answers them before a conversation sees them.
CARRIER_HELP = frozenset(normal_words(w) for w in carrier.HELP)
# A request for help is short; a longer message is something else, read as an answer.
MAX_WORDS = 8


# The languages a carrier help word belongs to: none of the flow's in particular.
_CARRIER: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class HelpPhrases:
    """Help phrases per language (normalised), and the filler words that may come with them."""

    phrases: Mapping[tuple[str, ...], frozenset[str]]
    filler: frozenset[str]
    # Every help phrase (the carrier's words too), by its first word, longest first.
    _by_first: Mapping[str, tuple[tuple[tuple[str, ...], frozenset[str] | None], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[tuple[str, ...], frozenset[str] | None]]] = {}
        for phrase, langs in self.phrases.items():
            index.setdefault(phrase[0], []).append((phrase, langs))
        for phrase in CARRIER_HELP:
            if phrase:
                index.setdefault(phrase[0], []).append((phrase, None))
        ordered = {w: tuple(sorted(found, key=lambda item: -len(item[0]))) for w, found in index.items()}
        object.__setattr__(self, "_by_first", ordered)

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
        """The languages of the help phrases a message is made of ("please help, I'm scared"), or
        None when it holds anything else but filler. Empty for the carrier's words alone ("help"),
        which belong to no one language of the flow."""
        words = said.words
        if not words or len(words) > MAX_WORDS:
            return None
        langs: set[str] = set()
        found = False
        i = 0
        while i < len(words):
            # The longest phrase first, so "no se que hacer" is taken whole.
            for phrase, of in self._by_first.get(words[i], ()):
                if words[i : i + len(phrase)] == phrase:
                    found = True
                    langs |= of or _CARRIER
                    i += len(phrase)
                    break
            else:
                if words[i] not in self.filler:
                    return None
                i += 1
        return frozenset(langs) if found else None
