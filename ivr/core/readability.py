"""Reading ease of the line's texts: Flesch-Kincaid grade for English, INFLESZ for Spanish.

Both count sentences, words and syllables. Syllables are counted by rule (vowel groups, with the
usual English silent-e and Spanish diphthong adjustments): close enough to rank texts and hold
them to a ceiling, which is what the flow checker does with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.core.words import strip_accents

_SENTENCE = re.compile(r"[.!?]+(?:\s|$)")
_WORD = re.compile(r"[a-zA-Z\u00c0-\u024f']+")
_EN_VOWELS = re.compile(r"[aeiouy]+")
_ES_VOWELS = re.compile(r"[aeiouáéíóúü]+")
# Spanish vowel groups that are two syllables (a hiatus): strong vowels together, or a stressed
# weak vowel beside another ("día", "país").
_ES_HIATUS = re.compile(r"[aeoáéó][aeoáéó]|[íú][aeo]|[aeo][íú]")


def english_syllables(word: str) -> int:
    """Syllables in an English word, by vowel groups: a final silent e is not one."""
    w = word.lower().strip("'")
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(1, len(_EN_VOWELS.findall(w)))


def spanish_syllables(word: str) -> int:
    """Syllables in a Spanish word: vowel groups, each hiatus in them counted twice."""
    w = word.lower()
    groups = _ES_VOWELS.findall(w)
    return max(1, len(groups) + sum(len(_ES_HIATUS.findall(g)) for g in groups))


@dataclass(frozen=True, slots=True)
class Counts:
    """Sentences, words and syllables in a text."""

    sentences: int
    words: int
    syllables: int


def counts(text: str, lang: str) -> Counts:
    """The counts of a text in a language (placeholders such as {emergency} count as one word)."""
    plain = re.sub(r"\{[a-z_]+\}", "ring", text)
    sentences = max(1, len([s for s in _SENTENCE.split(plain) if _WORD.search(s)]))
    words = _WORD.findall(plain)
    syllable = spanish_syllables if lang == "es" else lambda w: english_syllables(strip_accents(w))
    return Counts(sentences, len(words), sum(syllable(w) for w in words))


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of an English text (US school grade)."""
    c = counts(text, "en")
    if not c.words:
        return 0.0
    return 0.39 * c.words / c.sentences + 11.8 * c.syllables / c.words - 15.59


def ease_es(text: str) -> float:
    """Reading ease of a Spanish text on the INFLESZ scale (Szigriszt-Pazos' formula, graded by
    Barrio-Cantalejo and others, 2008, for patient information): over 80 very easy, 65 to 80
    fairly easy (primary school), 55 to 65 normal (early secondary school), under 55 hard."""
    c = counts(text, "es")
    if not c.words:
        return 100.0
    return 206.835 - 62.3 * c.syllables / c.words - c.words / c.sentences
