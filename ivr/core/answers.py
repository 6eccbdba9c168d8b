"""How a reply answers a yes/no question: the classes, the keys, and the flow's exact answers.

A triage nurse hears a partial or hedged yes ("a little", "I think so") as a yes, treats "not sure"
about a red flag as a reason to act, and hears "nah" or "not really" as a no. Replies that are one
of the flow's exact answers (whole, after folding case, accents and repeated letters) are taken by
rule here; every other reply is read by the answer model (ivr.core.reading).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.core.words import Said

Phrase = tuple[str, ...]


class Answer(enum.Enum):
    """How a reply is taken: yes, no, unsure, or not an answer (unclear)."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"
    UNCLEAR = "unclear"  # not an answer: asked again, saying how to answer
    EMERGENCY = "emergency"  # describes an emergency, whatever was asked: the emergency outcome
    CRISIS = "crisis"  # thoughts of suicide or self-harm: the crisis outcome
    URGENT = "urgent"  # describes another question's sign for the emergency department: go there now
    HELP = "help"  # asks for help or what to do: the help text (911 first), then the question again


YES_KEY = "1"
NO_KEY = "2"
UNSURE_KEY = "3"
ANSWER_KEYS = {YES_KEY: "the key for yes", NO_KEY: "the key for no", UNSURE_KEY: "the key for not sure"}


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """How people answer in one language (or several merged), as normalised phrases
    (see ivr.core.words.normal_words).

    `yes`, `no` and `unsure` are whole replies taken by rule. `filler` words ("um", "well") and
    `subjects` ("he", "she") tell where the answer a message opens with ends ("no he passed out":
    the no does not negate "passed out"); `negations` mark an opening that reads on ("no trouble").
    """

    yes: frozenset[Phrase]
    no: frozenset[Phrase]
    unsure: frozenset[Phrase]
    filler: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    negations: frozenset[str] = frozenset()
    _classes: Mapping[Phrase, Answer] = field(default_factory=dict, compare=False, repr=False)
    _longest: int = field(default=1, compare=False, repr=False)

    @property
    def classes(self) -> Mapping[Phrase, Answer]:
        """Each exact answer phrase with its class."""
        return self._classes

    def __post_init__(self) -> None:
        classes: dict[Phrase, Answer] = {}
        # Unsure first, then no, then yes: a phrase a flow lists twice (which the checker refuses)
        # takes the more careful meaning.
        for answer, phrases in ((Answer.YES, self.yes), (Answer.NO, self.no), (Answer.UNSURE, self.unsure)):
            classes.update(dict.fromkeys(phrases, answer))
        object.__setattr__(self, "_classes", classes)
        object.__setattr__(self, "_longest", max((len(p) for p in classes), default=1))

    @classmethod
    def merge(cls, vocabularies: Iterable[Vocabulary]) -> Vocabulary:
        """One vocabulary with every phrase of the given ones."""
        found = list(vocabularies)

        def union(name: str) -> frozenset[str]:
            return frozenset(w for v in found for w in getattr(v, name))

        return cls(
            yes=frozenset(p for v in found for p in v.yes),
            no=frozenset(p for v in found for p in v.no),
            unsure=frozenset(p for v in found for p in v.unsure),
            filler=union("filler"),
            subjects=union("subjects"),
            verbs=union("verbs"),
            negations=union("negations"),
        )

    def without_words_of(self, filler: frozenset[str]) -> Vocabulary:
        """The same vocabulary minus answer phrases made only of these words."""

        def keep(phrases: frozenset[Phrase]) -> frozenset[Phrase]:
            return frozenset(p for p in phrases if not all(w in filler for w in p))

        return Vocabulary(
            yes=keep(self.yes),
            no=keep(self.no),
            unsure=keep(self.unsure),
            filler=self.filler,
            subjects=self.subjects,
            verbs=self.verbs,
            negations=self.negations,
        )

    def phrase_at(self, words: Sequence[str], start: int) -> tuple[Phrase, Answer] | None:
        """The longest answer phrase starting at `start`, with its class."""
        for size in range(min(self._longest, len(words) - start), 0, -1):
            phrase = tuple(words[start : start + size])
            if phrase in self._classes:
                return phrase, self._classes[phrase]
        return None

    def lead(self, said: Said) -> Lead | None:
        """The answer a message opens with, after any filler ("um, no he passed out" opens with no)."""
        if not said.clauses:
            return None
        first = said.clauses[0]
        start = 0
        while start < len(first) and first[start] in self.filler and self.phrase_at(first, start) is None:
            start += 1
        found = self.phrase_at(first, start)
        if found is None:
            return None
        phrase, answer = found
        negative = answer is Answer.NO and any(w in self.negations for w in phrase)
        return Lead(start, start + len(phrase), negative, self.subjects)


@dataclass(frozen=True, slots=True)
class Lead:
    """The answer phrase a message opens with: words [start, end) of its first clause.

    `negative`: the phrase is a bare negation ("no", "not really") that can also negate what
    directly follows it ("no trouble breathing", "no me desmayé"). `subjects` start a new clause
    after it ("no he passed out").
    """

    start: int
    end: int
    negative: bool
    subjects: frozenset[str]


@dataclass(frozen=True, slots=True)
class Understanding:
    """The exact answers of a flow, per language and per question: a whole reply that is one of them
    ("no", "nope", "para nada", "slowly" to the onset question) is taken at once, by rule.

    A reply is looked up in the conversation's language first (the question's own phrases, then the
    language's), then in each other language, leaving out phrases made only of the conversation
    language's filler ("ya" is a yes in English texting and a filler word in Spanish); such an
    answer names the language it was given in."""

    own: Mapping[tuple[str, str | None], Mapping[Phrase, Answer]]
    languages: tuple[str, ...]
    filler: Mapping[str, frozenset[str]]
    any_language: Vocabulary  # every language's general words: to find the answer a message opens with

    @classmethod
    def of(
        cls, by_language: Mapping[str, Vocabulary], by_question: Mapping[str, Mapping[str, Vocabulary]]
    ) -> Understanding:
        """From each language's vocabulary, and each question's additions per language."""
        own: dict[tuple[str, str | None], Mapping[Phrase, Answer]] = {}
        for lang, general in by_language.items():
            own[(lang, None)] = general.classes
            for question, extra in by_question.items():
                if lang in extra:
                    own[(lang, question)] = {**general.classes, **extra[lang].classes}
        filler = {lang: v.filler for lang, v in by_language.items()}
        return cls(own, tuple(by_language), filler, Vocabulary.merge(by_language.values()))

    def exact(self, said: Said, lang: str, question: str | None = None) -> tuple[Answer, str | None] | None:
        """The answer a whole reply is, and the other language it belongs to (None when it is the
        conversation's own); None when the reply is not one of the flow's exact answers."""
        words = said.words
        if not words or len(said.clauses) > 1:
            return None  # "no, estoy bien" is no "no estoy bien": a reply in parts is the model's to read
        table = self.own.get((lang, question)) or self.own.get((lang, None), {})
        if words in table:
            return table[words], None
        own_filler = self.filler.get(lang, frozenset())
        if all(w in own_filler for w in words):
            return None
        for other in self.languages:
            if other == lang:
                continue
            table = self.own.get((other, question)) or self.own.get((other, None), {})
            if words in table:
                return table[words], other
        return None


def from_keys(digits: str) -> Answer:
    """One key press: 1 is yes, 2 is no, 3 is not sure, anything else is not an answer."""
    return _KEYED.get(digits, Answer.UNCLEAR)


_KEYED = {YES_KEY: Answer.YES, NO_KEY: Answer.NO, UNSURE_KEY: Answer.UNSURE}
