"""Spotting free text that describes an emergency, and not mistaking its negation for one.

Phrases are flow data, written the way people text them. In a phrase, `a|b` offers alternatives for
one word, an underscore joins words into one alternative (`hard_time`), and `...` allows up to three
other words in between ("arm ... numb" finds "my left arm is numb"), none of them a negation.

A negation shortly before a phrase, in the same clause, cancels it ("no trouble breathing",
"I don't have trouble breathing", "no me desmayé"), except:
- a phrase that itself says someone cannot do something ("can't breathe", "isn't breathing",
  "no puede respirar") is an emergency whatever comes before it ("no I can't breathe");
- an answer at the start of a message is a clause of its own ("no he passed out", "I don't know
  I can't breathe"), unless it is a bare negation that reads on into what follows: directly
  ("no trouble breathing") or through a word that is not a subject ("no me he desmayado").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.core.answers import Lead
from ivr.core.words import Said, normal_words

# How many words before a phrase a negation still applies to: "I have not had any trouble
# breathing" puts "not" three words before "trouble breathing".
NEGATION_REACH = 4
GAP = "..."
MAX_GAP = 3

Slot = tuple[tuple[str, ...], ...]  # alternatives, each a sequence of words; () is a gap


@dataclass(frozen=True, slots=True)
class Pattern:
    """One emergency phrase: the text the flow gives, its slots, and what it describes."""

    text: str
    slots: tuple[Slot, ...]
    langs: frozenset[str]
    question: str | None  # the red-flag question it describes, None for general words ("911")

    @property
    def second_words(self) -> frozenset[str] | None:
        """The words that can follow the first, when the phrase fixes them: a quick way to pass
        over the many phrases that begin with "no" without matching each."""
        first = self.slots[0]
        if len(self.slots) < 2 or self.slots[1] == () or any(len(alt) != 1 for alt in first):
            return None
        return frozenset(alt[0] for alt in self.slots[1])


def parse_pattern(text: str) -> tuple[Slot, ...]:
    """The slots of a phrase; ValueError for one that cannot be matched as written."""
    slots: list[Slot] = []
    for part in text.split():
        if part == GAP:
            if not slots or slots[-1] == ():
                raise ValueError(f"{text!r}: '...' must come between words")
            slots.append(())
            continue
        alternatives = tuple(dict.fromkeys(w for alt in part.split("|") if (w := normal_words(alt))))
        if not alternatives or any(not alt for alt in part.split("|")):
            raise ValueError(f"{text!r}: empty alternative in {part!r}")
        slots.append(alternatives)
    if not slots or slots[-1] == ():
        raise ValueError(f"{text!r}: a phrase needs words, and cannot end with '...'")
    return tuple(slots)


def examples(slots: Sequence[Slot]) -> Iterator[tuple[str, ...]]:
    """Word sequences a phrase matches with its gaps empty: every alternative of each slot at
    least once (for tests that try every phrase)."""
    words = [s for s in slots if s]
    widest = max(len(s) for s in words)
    for k in range(widest):
        yield tuple(w for s in words for w in s[min(k, len(s) - 1)])


@dataclass(frozen=True, slots=True)
class Match:
    """An emergency phrase found in a text, the languages it is a phrase of, and the question whose
    sign it describes (None for general words); `crisis` for words of suicide or self-harm, `urgent`
    for words of a sign for the emergency department rather than 911; `overdose` for words of too
    many pills taken (an emergency, or a crisis when the answer model hears one)."""

    phrase: str
    langs: frozenset[str]
    question: str | None
    crisis: bool = False
    urgent: bool = False
    overdose: bool = False


@dataclass(frozen=True, slots=True)
class Scan:
    """What a text says about emergencies: the first phrase it states (not negates), the red-flag
    questions it denies ("I haven't passed out"), and the word positions (clause, word) of those
    denials, negation included."""

    stated: Match | None
    denied: frozenset[str] = frozenset()
    cleared: frozenset[tuple[int, int]] = frozenset()
    # The positions of the words of each phrase found negated or placed in the past (not of the
    # negation itself): the answer model reads them as one placeholder word (see ivr.core.reading).
    masked: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True, slots=True)
class EmergencyPhrases:
    """Phrases that describe an emergency, merged over a flow's languages, with the words that
    negate them or end a clause."""

    patterns: tuple[Pattern, ...]
    negations: frozenset[str]
    clause_breaks: frozenset[str]
    crisis: bool = False  # these are words of a crisis (suicide, self-harm), not of a medical emergency
    urgent: bool = False  # these are words of signs for the emergency department, not for 911
    overdose: bool = False  # these are words of too many pills taken
    reach: int = NEGATION_REACH  # how many words before a phrase a negation still cancels it
    # Words that place a sign in the past ("years ago", "hace años") and words that bring it back
    # to now ("today", "again"): see `scan`.
    history: tuple[tuple[str, ...], ...] = ()
    recent: frozenset[str] = frozenset()
    # Words that, right after a phrase, make it about a language, not a sign ("no habla inglés").
    not_before: frozenset[str] = frozenset()
    _history: Mapping[str, tuple[tuple[str, ...], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    by_first_word: Mapping[str, tuple[tuple[Pattern, frozenset[str] | None], ...]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[Pattern, frozenset[str] | None]]] = {}
        for pattern in self.patterns:
            for first in dict.fromkeys(alt[0] for alt in pattern.slots[0]):
                index.setdefault(first, []).append((pattern, pattern.second_words))
        object.__setattr__(self, "by_first_word", {w: tuple(p) for w, p in index.items()})
        history: dict[str, list[tuple[str, ...]]] = {}
        for marker in self.history:
            history.setdefault(marker[0], []).append(marker)
        object.__setattr__(self, "_history", {w: tuple(m) for w, m in history.items()})

    @classmethod
    def merge(
        cls,
        phrases: Iterable[tuple[str, str | None, str]],
        negations: Iterable[str],
        clause_breaks: Iterable[str],
        *,
        crisis: bool = False,
        urgent: bool = False,
        overdose: bool = False,
        reach: int = NEGATION_REACH,
        history: Iterable[tuple[str, ...]] = (),
        recent: Iterable[str] = (),
        not_before: Iterable[str] = (),
    ) -> EmergencyPhrases:
        """From (language, question or None, phrase text); phrases must parse (the loader checks)."""
        found: dict[tuple[Slot, ...], Pattern] = {}
        for lang, question, text in phrases:
            slots = parse_pattern(text)
            known = found.get(slots)
            if known is None:
                found[slots] = Pattern(text, slots, frozenset({lang}), question)
            else:
                found[slots] = Pattern(known.text, slots, known.langs | {lang}, known.question or question)
        # Longest first, so "no puedo respirar" is tried before a shorter phrase at the same word.
        ordered = sorted(found.values(), key=lambda p: (-len(p.slots), p.text))
        return cls(
            tuple(ordered),
            frozenset(negations),
            frozenset(clause_breaks),
            crisis,
            urgent,
            overdose,
            reach,
            tuple(h for h in history if h),
            frozenset(recent),
            frozenset(not_before),
        )

    def find(self, text: str) -> Match | None:
        """The first emergency phrase a text states (not negates), or None."""
        return self.scan(Said.of(text)).stated

    def scan(self, said: Said, lead: Lead | None = None) -> Scan:
        """Stated and denied emergencies in a text; `lead` is the answer it opens with, if any.

        A phrase in a stretch of text that places it in the past ("his arm has been weak since his
        stroke years ago") is history, not a sign now, and counts as denied, unless the message
        also brings something back to now ("...and again today")."""
        found = _Found()
        words = said.words
        # A word that brings a sign back to now counts unless negated ("nothing new since").
        now = any(
            w in self.recent and not any(v in self.negations for v in words[max(0, i - 2) : i])
            for i, w in enumerate(words)
        )
        for c, clause in enumerate(said.clauses):
            spans: list[tuple[int, int]] = []
            for part_start, part_end in self._parts(clause):
                past: bool | None = False if now or not self.history else None  # worked out if needed
                for start in range(part_start, part_end):
                    for pattern, second in self.by_first_word.get(clause[start], ()):
                        if second is not None and (start + 1 >= part_end or clause[start + 1] not in second):
                            continue
                        matching = _match(pattern.slots, clause, start, part_end, self.negations)
                        if matching is None:
                            continue
                        end, matched = matching
                        if end < part_end and clause[end] in self.not_before:
                            continue  # "no habla inglés": about a language, not a sign
                        if any(a <= start and end <= b for a, b in spans):
                            continue  # inside a phrase already read as negated
                        if past is None:
                            past = self._historic(clause[part_start:part_end])
                        set_aside = start  # a sign in the past: the phrase alone
                        if not past:
                            window = self._window(clause, c, part_start, start, lead=lead, reach=self.reach)
                            negation = next((k for k in window if clause[k] in self.negations), None)
                            if negation is None or any(clause[k] in self.negations for k in matched):
                                found_here = Match(
                                    pattern.text,
                                    pattern.langs,
                                    pattern.question,
                                    self.crisis,
                                    self.urgent,
                                    self.overdose,
                                )
                                return Scan(found_here)
                            set_aside = negation
                        spans.append((set_aside, end))
                        found.deny(pattern.question, c, range(set_aside, end), matched)
        return found.scan()

    def _historic(self, part: Sequence[str]) -> bool:
        """Whether a stretch of text holds words that place what it says in the past."""
        words = tuple(part)
        return any(
            words[i : i + len(marker)] == marker
            for i, w in enumerate(words)
            for marker in self._history.get(w, ())
        )

    def _parts(self, clause: Sequence[str]) -> list[tuple[int, int]]:
        """Stretches of a clause between clause-break words ("but", "pero"), as index ranges."""
        parts: list[tuple[int, int]] = []
        start = 0
        for i, word in enumerate(clause):
            if word in self.clause_breaks:
                if i > start:
                    parts.append((start, i))
                start = i + 1
        if start < len(clause):
            parts.append((start, len(clause)))
        return parts

    @staticmethod
    def _window(
        clause: Sequence[str], c: int, part_start: int, start: int, *, lead: Lead | None, reach: int
    ) -> range:
        """Where a negation of the phrase at `start` may stand."""
        begin = max(part_start, start - reach)
        if c != 0 or lead is None or start < lead.end or part_start > lead.start:
            return range(begin, start)
        reads_on = lead.negative and (start == lead.end or clause[lead.end] not in lead.subjects)
        if reads_on:
            return range(begin, start)
        return range(max(begin, lead.end), start)


@dataclass
class _Found:
    """What a scan has found denied or placed in the past so far."""

    denied: set[str] = field(default_factory=set)
    cleared: set[tuple[int, int]] = field(default_factory=set)
    masked: set[tuple[int, int]] = field(default_factory=set)

    def deny(self, question: str | None, clause: int, span: range, matched: Sequence[int]) -> None:
        """A phrase not stated: its words and its negation set aside, its own words masked."""
        self.cleared.update((clause, k) for k in span)
        self.masked.update((clause, k) for k in matched)
        if question is not None:
            self.denied.add(question)

    def scan(self) -> Scan:
        """The scan of a text that states nothing."""
        return Scan(None, frozenset(self.denied), frozenset(self.cleared), frozenset(self.masked))


def _match(
    slots: Sequence[Slot], words: Sequence[str], start: int, end: int, negations: frozenset[str]
) -> tuple[int, list[int]] | None:
    """Where a phrase starting at `start` ends, and the positions of its own (not gap) words."""
    if not slots:
        return start, []
    slot, rest = slots[0], slots[1:]
    if slot == ():
        for skip in range(MAX_GAP + 1):
            gap = words[start : start + skip]
            if start + skip > end or any(w in negations for w in gap):
                break
            found = _match(rest, words, start + skip, end, negations)
            if found is not None:
                return found
        return None
    for alternative in slot:
        stop = start + len(alternative)
        if stop <= end and tuple(words[start:stop]) == alternative:
            found = _match(rest, words, stop, end, negations)
            if found is not None:
                return found[0], [*range(start, stop), *found[1]]
    return None
