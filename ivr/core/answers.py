"""How a reply answers a yes/no question: yes, no, unsure, or not an answer; from text, keys and speech.

A triage nurse hears a partial or hedged yes ("a little", "I think so") as a yes, treats "not sure"
about a red flag as a reason to act, and hears "nah" or "not really" as a no. The words of each class
are flow data, per language; this module only applies them:

- Phrases are found anywhere, the longest first ("no idea" is unsure, not no; "I don't think so" is no).
- A single letter or a number ("y", "N", "2") answers only when nothing else but filler is said,
  because "y" is also the Spanish "and" and a number may be a day count.
- A short echo of the question at the end of a clause, a subject and a verb ("it is", "I do",
  "she hasn't"), is a yes, or a no with "not".
- Yes with no, either way round ("no it is", "No I do"), is doubt: unsure, never a no.
- A no stands only when every other word is filler, a negation, or a word about the question
  ("no thanks", "nope, just tired", "no, I didn't fall"); a no with words the line cannot place
  ("no strength in my legs") is not an answer, and is asked again.
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


YES_KEY = "1"
NO_KEY = "2"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """How people answer in one language (or several merged), as normalised phrases
    (see ivr.core.words.normal_words).

    `filler` words can come with any answer without changing it ("thanks", "just", "tired");
    `subjects` and `verbs` make short echoes ("it is", "she doesn't"); `negations` turn an echo into a no.
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
    """The vocabularies of a flow, per language and per question (a question may add its own
    phrases: "slowly" is a no to "did it begin suddenly?", and "eats fine" words about swallowing).

    A reply is read in the conversation's language first; if that finds no answer, in all the
    flow's languages together (a Spanish speaker who types "yes" is not asked again), leaving out
    phrases made only of the conversation language's filler ("ya" is a yes in English texting and
    a filler word in Spanish). `others` are those languages one by one, the same phrases left out,
    to tell which language such an answer was given in."""

    own: Mapping[tuple[str, str | None], Vocabulary]
    fallback: Mapping[tuple[str, str | None], Vocabulary]
    any_language: Vocabulary  # every language's general words: to find the answer a message opens with
    others: Mapping[tuple[str, str | None], tuple[tuple[str, Vocabulary], ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, by_language: Mapping[str, Vocabulary], by_question: Mapping[str, Mapping[str, Vocabulary]]
    ) -> Understanding:
        """From each language's vocabulary, and each question's additions per language."""
        own: dict[tuple[str, str | None], Vocabulary] = {}
        fallback: dict[tuple[str, str | None], Vocabulary] = {}
        others: dict[tuple[str, str | None], tuple[tuple[str, Vocabulary], ...]] = {}
        for question in (None, *by_question):
            extra = by_question.get(question, {}) if question is not None else {}
            everything = Vocabulary.merge([*by_language.values(), *extra.values()])
            for lang, general in by_language.items():
                own[(lang, question)] = Vocabulary.merge([general, extra[lang]]) if lang in extra else general
            for lang in by_language:
                filler = own[(lang, question)].filler
                fallback[(lang, question)] = everything.without_words_of(filler)
                others[(lang, question)] = tuple(
                    (other, own[(other, question)].without_words_of(filler))
                    for other in by_language
                    if other != lang
                )
        return cls(own, fallback, Vocabulary.merge(by_language.values()), others)

    def classify(
        self,
        said: Said,
        lang: str,
        *,
        question: str | None = None,
        cleared: frozenset[tuple[int, int]] = frozenset(),
        denied: bool = False,
    ) -> Answer:
        """The class of a reply to `question`. `cleared` word positions (clause, word) belong to a
        negated description of a red flag ("no trouble breathing") and are set aside; `denied` says
        that description denies the very red flag asked about, which is a no."""
        return self.read(said, lang, question=question, cleared=cleared, denied=denied)[0]

    def read(
        self,
        said: Said,
        lang: str,
        *,
        question: str | None = None,
        cleared: frozenset[tuple[int, int]] = frozenset(),
        denied: bool = False,
    ) -> tuple[Answer, str | None]:
        """The class of a reply (as `classify`), and the language it was given in when the
        conversation's own found no answer but one other language's words alone do ("sí" in an
        English conversation: es); None when it is the conversation's own, or no single language's."""
        key = (lang, question) if (lang, question) in self.own else (lang, None)
        if key not in self.own:
            return classify(said, self.any_language, cleared=cleared, denied=denied), None
        answer = classify(said, self.own[key], cleared=cleared, denied=denied)
        if answer is not Answer.UNCLEAR:
            return answer, None
        answer = classify(said, self.fallback[key], cleared=cleared, denied=denied)
        if answer is Answer.UNCLEAR:
            return answer, None
        for other, vocabulary in self.others.get(key, ()):
            if classify(said, vocabulary, cleared=cleared, denied=denied) is not Answer.UNCLEAR:
                return answer, other
        return answer, None


def classify(
    said: Said,
    vocabulary: Vocabulary,
    *,
    cleared: frozenset[tuple[int, int]] = frozenset(),
    denied: bool = False,
) -> Answer:
    """The class of a reply under one vocabulary (see the module docstring for the rules)."""
    found: set[Answer] = {Answer.NO} if denied else set()
    loose: list[Answer] = []  # single letters and numbers: count only when nothing else is said
    leftovers = 0
    for c, clause in enumerate(said.clauses):
        used = [(c, i) in cleared for i in range(len(clause))]
        doubted = [False] * len(clause)  # words of an unsure phrase ("not sure if")
        i = 0
        while i < len(clause):
            if used[i]:
                i += 1
                continue
            match = vocabulary.phrase_at(clause, i)
            if match is not None and not any(used[i : i + len(match[0])]):
                phrase, answer = match
                for k in range(i, i + len(phrase)):
                    used[k] = True
                    doubted[k] = answer is Answer.UNSURE
                if len(phrase) == 1 and phrase[0].isascii() and (len(phrase[0]) == 1 or phrase[0].isdigit()):
                    loose.append(answer)
                else:
                    found.add(answer)
                i += len(phrase)
                continue
            i += 1
        echo = _echo(clause, used, doubted, vocabulary)
        if echo is not None:
            found.add(echo)
        # Negations do not make a no unclear ("no, I didn't fall"); a negated reassurance ("not
        # normal") is an unsure phrase of its own.
        leftovers += sum(
            1
            for i, w in enumerate(clause)
            if not used[i] and w not in vocabulary.filler and w not in vocabulary.negations
        )
    if loose:
        if leftovers == 0 and not found and len(set(loose)) == 1:
            found.add(loose[0])
        else:
            leftovers += len(loose)
    return _decide(found, leftovers)


def _decide(found: set[Answer], leftovers: int) -> Answer:
    if Answer.YES in found and Answer.NO in found:
        return Answer.UNSURE  # "no it is", "yes no": doubt, which on a red flag is a reason to act
    if Answer.YES in found:
        return Answer.YES  # a hedge with it ("maybe a little") is still a partial yes
    if Answer.UNSURE in found:
        return Answer.UNSURE
    if Answer.NO in found and leftovers == 0:
        return Answer.NO
    return Answer.UNCLEAR


def _echo(
    clause: tuple[str, ...], used: list[bool], doubted: list[bool], vocabulary: Vocabulary
) -> Answer | None:
    """A clause that ends with a subject and a verb ("it is", "I do"): yes; with "not" after the
    verb ("it is not", "I do not"): no. Only at the very end ("I am fine" is no echo), and not
    right after doubt ("not sure if she did" stays unsure)."""
    end = len(clause)
    negated = end >= 1 and clause[end - 1] in vocabulary.negations
    verb_at = end - 2 if negated else end - 1
    subject_at = verb_at - 1
    if subject_at < 0 or any(used[k] for k in range(subject_at, end)):
        return None
    if clause[verb_at] not in vocabulary.verbs or clause[subject_at] not in vocabulary.subjects:
        return None
    if subject_at > 0 and doubted[subject_at - 1]:
        for k in range(subject_at, end):
            used[k] = True
        return None
    for k in range(subject_at, end):
        used[k] = True
    return Answer.NO if negated else Answer.YES


def from_keys(digits: str) -> Answer:
    """One key press: 1 is yes, 2 is no, anything else is not an answer."""
    if digits == YES_KEY:
        return Answer.YES
    if digits == NO_KEY:
        return Answer.NO
    return Answer.UNCLEAR
