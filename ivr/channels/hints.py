"""Speech hints for <Gather>: the words and phrases a caller may say, spelled as people say them.

The flow writes its answer and emergency phrases for matching: folded (no accents), with typing
variants as alternatives ("breathe|breath|breth"), gaps ("lips ... blue") and underscores. The
matcher folds and squeezes them further ("heart attack" is matched as "heart atack"); a recogniser
given those forms is biased toward words nobody says. So hints are built here from the flow's text
as written, never from the matcher's forms:

- a phrase slot gives its first alternative, which the flow writes as the word itself (its variants
  follow it); a slot's other alternatives are hints only where the flow itself spells them as the
  first alternative of another slot or in what the line says;
- a gap splits a phrase into the runs of words either side of it, each a hint;
- an answer phrase ("not sure", "para nada") is a hint when each of its words is one the flow spells
  the same way, so texting forms ("idk", "yse", "masomenos") are left out;
- accents: a phrase the flow writes without them takes the spelling the flow's own prose gives the
  same words ("no se" -> "no sé", from "O diga no sé."); where the prose spells a phrase two ways
  ("si", "sí") the accented one is the word (an accent is never written by accident). Failing that,
  each word the prose spells one way only takes that spelling ("debil" -> "débil"); a word it
  spells two ways ("se", "sé") or never says keeps the flow's spelling. Write phrases with their
  accents in the flow and the hints carry them (matching folds them anyway).

Twilio's <Gather hints>: "a comma-separated list of up to 500 entries, each entry can be 100
characters or fewer", words of a phrase separated by spaces (Twilio warning 13330).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ivr.core.emergency import GAP
from ivr.core.flow import Flow, Wording
from ivr.core.words import fold

MAX_HINTS = 500
MAX_HINT_CHARS = 100
MAX_NGRAM = 6

# A spoken word: letters (accents included), with an apostrophe inside ("can't", "don't").
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _prose(flow: Flow, lang: str) -> Iterator[str]:
    """Everything the line says or writes in a language, as the flow spells it."""
    wordings: list[Wording] = [q.wording for q in flow.questions.values()]
    wordings += [o.wording for o in flow.outcomes.values()]
    wordings += list(flow.texts.values())
    for wording in wordings:
        yield from wording.written.get(lang, ())
        yield from wording.spoken.get(lang, ())
    for other, choice in flow.call_languages.items():
        if other == lang:
            yield choice.offer


def _slots(pattern: str) -> list[list[str] | None]:
    """A phrase pattern as slots of alternatives (each as written, underscores as spaces); None is
    a gap."""
    slots: list[list[str] | None] = []
    for part in pattern.split():
        if part == GAP:
            slots.append(None)
        else:
            slots.append([alt.replace("_", " ") for alt in part.split("|") if alt])
    return slots


class Spelling:
    """How a flow spells words in one language: the words it vouches for, and the spelling of each
    run of words in its prose, by folded form."""

    def __init__(self, flow: Flow, lang: str) -> None:
        self.ngrams: dict[str, set[str]] = {}
        self.vouched: set[str] = set()
        for text in _prose(flow, lang):
            words = _words(text)
            for word in words:
                self.vouched.add(fold(word))
                self.ngrams.setdefault(fold(word), set()).add(word.lower())
            # Longer runs matter only where they carry an accent: the others change nothing.
            for i, word in enumerate(words):
                if word.isascii():
                    continue
                for n in range(2, MAX_NGRAM + 1):
                    for start in range(max(0, i - n + 1), min(i, len(words) - n) + 1):
                        run = " ".join(words[start : start + n])
                        self.ngrams.setdefault(fold(run), set()).add(run.lower())
        for pattern in _patterns(flow, lang):
            for slot in _slots(pattern):
                if slot:
                    self.vouched.update(fold(w) for w in _words(slot[0]))

    def is_spoken(self, phrase: str) -> bool:
        """Every word of the phrase is one the flow spells as a word (not only as a variant)."""
        words = _words(phrase)
        return bool(words) and " ".join(words) == phrase and all(fold(w) in self.vouched for w in words)

    def spelled(self, phrase: str) -> str:
        """The phrase with the accents the flow's prose gives it, when it writes none itself: the
        prose's spelling of the whole phrase (its accented one, if it has two), else of each word
        the prose spells one way only."""
        if not phrase.isascii():
            return phrase
        accented = sorted(s for s in self.ngrams.get(fold(phrase), ()) if not s.isascii())
        if accented:
            return accented[0]
        words = phrase.split(" ")
        return " ".join(
            next(iter(forms)) if len(forms := self.ngrams.get(fold(w), set())) == 1 else w for w in words
        )


def _patterns(flow: Flow, lang: str) -> Iterator[str]:
    yield from flow.words[lang].emergency
    for question in flow.questions.values():
        yield from question.phrases.get(lang, ())
        yield from question.phrases_until_no.get(lang, ())


def _runs(pattern: str, spelling: Spelling) -> Iterator[str]:
    """The hints one emergency phrase gives: each run of slots between gaps, first alternatives;
    a phrase of one slot gives each of its alternatives the flow spells as a word."""
    slots = _slots(pattern)
    if len(slots) == 1 and slots[0]:
        yield slots[0][0]
        yield from (alt for alt in slots[0][1:] if spelling.is_spoken(alt))
        return
    run: list[str] = []
    for slot in [*slots, None]:
        if slot is None:
            if run:
                yield " ".join(run)
            run = []
        else:
            run.append(slot[0])


# Hints by flow (by identity: flows live as long as the registry) and language; the flow is kept
# with them so that its id is not reused while cached.
_CACHE: dict[int, tuple[Flow, dict[str, list[str]]]] = {}
MAX_CACHED_FLOWS = 64


def entries(flow: Flow, lang: str) -> list[str]:
    """What the recogniser should expect, in this order: the language's answer phrases (words
    only: no digits, single letters or symbols), then the emergency phrases, each spelled as
    people say it. The flow checker keeps the list within Twilio's limits."""
    cached = _CACHE.get(id(flow))
    if cached is None or cached[0] is not flow:
        if len(_CACHE) >= MAX_CACHED_FLOWS:
            _CACHE.clear()
        cached = _CACHE[id(flow)] = (flow, {})
    if lang not in cached[1]:
        cached[1][lang] = _entries(flow, lang)
    return list(cached[1][lang])


def _entries(flow: Flow, lang: str) -> list[str]:
    spelling = Spelling(flow, lang)
    words = flow.words[lang]
    answers = [a for a in (*words.yes, *words.no, *words.unsure) if len(a) > 1 and spelling.is_spoken(a)]
    phrases = [p for pattern in _patterns(flow, lang) for p in _runs(pattern, spelling)]
    return _unique(spelling.spelled(p) for p in (*answers, *phrases) if _words(p) or p.isdigit())


def _unique(hints: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for hint in hints:
        if fold(hint) not in seen:
            seen.add(fold(hint))
            kept.append(hint)
    return kept


def attribute(flow: Flow, lang: str) -> str:
    """The <Gather hints> value for a language: the entries, comma separated."""
    return ", ".join(entries(flow, lang)[:MAX_HINTS])
