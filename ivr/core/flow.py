"""The flow model: questions, outcomes, texts and how people answer; read from files by ivr.flows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ivr.core.answer_model import AnswerModel
from ivr.core.answers import Lead, Understanding, Vocabulary
from ivr.core.emergency import EmergencyPhrases, Scan, examples, parse_pattern
from ivr.core.help import HelpPhrases
from ivr.core.language import LanguageCues
from ivr.core.reading import Reader
from ivr.core.words import Said, fold, normal_words

SPEC_VERSION = 1
CRISIS_NEGATION_REACH = 2
OutcomeKind = Literal["emergency", "er_now", "today", "appointment", "safety", "unsure", "crisis"]
OUTCOME_KINDS: tuple[OutcomeKind, ...] = (
    "emergency",
    "er_now",
    "today",
    "appointment",
    "safety",
    "unsure",
    "crisis",
)
# Every flow needs these; "er_now" (go to an emergency department now) and "today" (get seen today)
# are there when a question leads to them; "unsure" (the reply to "not sure" on a red flag) falls
# back to "safety", and "crisis" (thoughts of suicide) to "emergency", in flows that predate them.
REQUIRED_KINDS: tuple[OutcomeKind, ...] = ("emergency", "appointment", "safety")
# Outcomes whose first sentence must tell the person to call the emergency number now.
CALL_NOW_KINDS: tuple[OutcomeKind, ...] = ("emergency", "safety", "unsure")
# From most to least urgent: how the case bank and the reports rank what the line advised.
URGENCY: tuple[OutcomeKind, ...] = ("emergency", "unsure", "safety", "er_now", "today", "appointment")
PLACEHOLDERS = frozenset({"emergency", "crisis", "booking_url"})

# Every text the renderers need besides questions and outcomes; a flow must define each one
# in every language it declares, so no channel can fall back to silence or to another language.
REQUIRED_TEXTS = (
    "intro",  # first thing said in every conversation: 911 in an emergency (and, in texts, what this is)
    "sms_answer_hint",  # how to answer by text
    "voice_answer_hint",  # how to answer on a call, by voice or keypad
    "sms_answer_hint_simple",  # how to answer by text, after a reply that was not understood: by number
    "voice_answer_hint_simple",  # how to answer on a call, after a miss: by key
    "confirm_by_key",  # asking for a keypad answer when a spoken no was not heard clearly
    "not_understood",  # an SMS reply that is neither yes nor no
    "no_input",  # a caller who said or pressed nothing
    "wrong_key",  # a caller who pressed a key that is not an answer
    "safety_net",  # what anyone gets when the service itself fails
    "help",  # the answer to HELP or INFO: the 911 notice, what the line is, how to stop messages
    "opted_in",  # the answer to START or UNSTOP after an opt-out
    "rate_limited",  # the one reply before a sender who sends too many texts is paused
    "nurse_offer",  # when NURSE_NUMBER is set: added to the intro (calls) and the help text (texts)
    "nurse_connecting",  # said before a call is put through to the nurse
    "nurse_unavailable",  # said when the nurse did not answer, before the question is asked again
)


@dataclass(frozen=True, slots=True)
class Wording:
    """One piece of text in every language: parts to read, and optionally other parts to speak."""

    written: Mapping[str, tuple[str, ...]]
    spoken: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def parts(self, lang: str, *, voice: bool) -> tuple[str, ...]:
        """The parts for a language and channel; voice falls back to the written parts."""
        if voice and lang in self.spoken:
            return self.spoken[lang]
        return self.written[lang]

    def text(self, lang: str, *, voice: bool) -> str:
        """All parts joined into one passage."""
        return " ".join(self.parts(lang, voice=voice))

    def filled(self, values: Mapping[str, str]) -> Wording:
        """The same wording with {placeholders} filled in."""
        return Wording(
            written={k: tuple(p.format_map(values) for p in v) for k, v in self.written.items()},
            spoken={k: tuple(p.format_map(values) for p in v) for k, v in self.spoken.items()},
        )


@dataclass(frozen=True, slots=True)
class AnswerWords:
    """A question's own exact answers in one language, added to the language's while it is asked:
    "slowly" is a no to "did it begin suddenly?"."""

    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    unsure: tuple[str, ...] = ()

    def vocabulary(self) -> Vocabulary:
        """These words as a vocabulary, added to the language's while the question is asked."""
        return Vocabulary(yes=_phrases(self.yes), no=_phrases(self.no), unsure=_phrases(self.unsure))


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no question; `yes` and `no` name the node that comes next. `phrases` (per language)
    describe its sign in free text, and lead where its yes leads at any point; `words` (per
    language) are its own exact answers; `named` (per language) are the words every list of signs
    must use for it (the checker proves each safety list names every sign). `phrases_until_no` are
    its sign only until the conversation has passed its no; after that, a sign for the emergency
    department ("can't walk" is sudden weakness until the weakness is known not to be sudden)."""

    id: str
    wording: Wording
    yes: str
    no: str
    red_flag: bool
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    words: Mapping[str, AnswerWords] = field(default_factory=dict)
    named: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    phrases_until_no: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    phrases_if_lasting: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lasting:
    """Questions' `phrases_if_lasting` (`signs`, as urgent signs) and the ways of saying they have
    lasted (`ways`: each a set of word lists that must all be said, such as "for two days" alone, or
    "since yesterday" with bad weakness): a reply that states a sign and one whole way is a sign for
    the emergency department ("nothing stays down, not even water, since yesterday, she's so weak")."""

    signs: EmergencyPhrases
    ways: tuple[tuple[EmergencyPhrases, ...], ...]

    def scan(self, said: Said, lead: Lead | None) -> Scan | None:
        """The sign found, when the reply also says one whole way it has lasted; else None."""
        found = self.signs.scan(said, lead)
        if found.stated is None:
            return None
        if not any(all(part.scan(said, lead).stated is not None for part in way) for way in self.ways):
            return None
        return found


@dataclass(frozen=True, slots=True)
class UntilNo:
    """A question's `phrases_until_no`: read as its sign (`before`) until a conversation is at a
    node it reaches only through that question's no (`past`), then as an urgent sign (`after`)."""

    before: EmergencyPhrases
    after: EmergencyPhrases
    past: frozenset[str]

    def phrases_at(self, node: str | None) -> EmergencyPhrases:
        """The phrases as they count at a node (None: not known, the sign)."""
        return self.after if node in self.past else self.before


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a conversation ends; `booking` is added after the first part when a link is set."""

    id: str
    kind: OutcomeKind
    wording: Wording
    booking: Wording | None = None


@dataclass(frozen=True, slots=True)
class Words:
    """How people talk in one language, as the flow writes it (phrases, not yet normalised):
    answers (yes, no, unsure), filler, the subjects and verbs of short echoes ("it is"), requests
    for help, language keywords and markers, emergency phrases, negations and clause breaks."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    unsure: tuple[str, ...] = ()
    filler: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    help: tuple[str, ...] = ()
    switch: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    emergency: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    clause_breaks: tuple[str, ...] = ()
    crisis: tuple[str, ...] = ()  # words of suicide or self-harm, at any point: the crisis outcome
    cues: tuple[str, ...] = ()  # words of an emergency that keep the answer model from hearing a no
    history: tuple[str, ...] = ()  # words that place a sign in the past ("years ago")
    recent: tuple[str, ...] = ()  # words that bring it back to now ("today", "again")
    contrasts: tuple[str, ...] = ()  # words that set a second part against the first ("but")
    # Signs for the emergency department that no question asks about, at any point ("pus and a
    # fever"): the urgent outcome.
    urgent: tuple[str, ...] = ()
    # Words of answering a phone or greeting ("sí, diga", "yes hello, this is her son").
    greetings: tuple[str, ...] = ()
    # Negations that stand for a thing or join a list ("nothing", "ni nada"): they cancel an
    # emergency phrase after them ("nothing hurts in my chest") but not words of a crisis ("no
    # quiero comer ni nada, quiero morirme").
    loose_negations: tuple[str, ...] = ()
    # When a question's `phrases_if_lasting` are a sign for the emergency department: said with
    # `lasting` (a day or more, said outright: "for two days"), or with `overnight` ("since
    # yesterday", "desde anoche") and `drained` (weakness bad enough to go with it: "so weak").
    lasting: tuple[str, ...] = ()
    overnight: tuple[str, ...] = ()
    drained: tuple[str, ...] = ()
    # Words of too many pills taken ("took all the pills"): an emergency, and a crisis when the
    # answer model hears one in the reply ("...because I'm done").
    overdose: tuple[str, ...] = ()

    def vocabulary(self) -> Vocabulary:
        """The language's answer words as a vocabulary."""
        return Vocabulary(
            yes=_phrases(self.yes),
            no=_phrases(self.no),
            unsure=_phrases(self.unsure),
            filler=_single_words(self.filler),
            subjects=_single_words(self.subjects),
            verbs=_single_words(self.verbs),
            negations=_single_words(self.negations),
        )


def _phrases(texts: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(p for t in texts if (p := normal_words(t)))


def _single_words(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for t in texts for w in normal_words(t))


@dataclass(frozen=True, slots=True)
class CallLanguage:
    """How a caller picks a language at any question: the key reserved for it on calls, and the
    short offer said in that language before a question ("Para español, oprima 9.")."""

    key: str
    offer: str


@dataclass(frozen=True, slots=True)
class Limits:
    """How many times a question is asked again before the safety outcome, per channel."""

    sms_retries: int = 1
    voice_retries: int = 2
    max_turns: int = 60


@dataclass(frozen=True, slots=True)
class Flow:
    """A whole, validated flow. `digest` identifies its exact clinical content; `source` is the
    data it was loaded from; `call_languages` are the languages a caller can pick by key (a flow
    without them offers no language key on calls). The last four fields are derived from the
    others (see `compose`)."""

    id: str
    version: str
    title: str
    languages: tuple[str, ...]
    start: str
    questions: Mapping[str, Question]
    outcomes: Mapping[str, Outcome]
    texts: Mapping[str, Wording]
    words: Mapping[str, Words]
    limits: Limits
    call_languages: Mapping[str, CallLanguage]
    digest: str
    source: Mapping[str, Any]
    understanding: Understanding
    emergency_phrases: EmergencyPhrases
    urgent_phrases: EmergencyPhrases
    overdose_phrases: EmergencyPhrases
    help_phrases: HelpPhrases
    cues: LanguageCues
    crisis_phrases: EmergencyPhrases
    reader: Reader
    answer_model: AnswerModel | None = None
    until_no: Mapping[str, UntilNo] = field(default_factory=dict)
    lasting: Lasting | None = None

    @property
    def default_language(self) -> str:
        """The first language the flow declares: where a conversation starts."""
        return self.languages[0]

    def emergency_phrases_of(self, lang: str) -> tuple[str, ...]:
        """One language's emergency phrases as people say them, for speech hints: every alternative
        of each phrase at least once, its gaps left out."""
        texts = [*self.words[lang].emergency]
        texts += [text for q in self.questions.values() for text in q.phrases.get(lang, ())]
        texts += [text for q in self.questions.values() for text in q.phrases_until_no.get(lang, ())]
        return tuple(
            dict.fromkeys(" ".join(words) for text in texts for words in examples(parse_pattern(text)))
        )

    def call_language_of_key(self, key: str) -> str | None:
        """The language a key picks on a call, if it is one of the keys reserved for languages."""
        for lang, choice in self.call_languages.items():
            if choice.key == key:
                return lang
        return None

    def call_offers(self, lang: str) -> tuple[tuple[str, CallLanguage], ...]:
        """The languages a caller in `lang` can pick by key, in the flow's order, with their offers."""
        return tuple(
            (other, self.call_languages[other])
            for other in self.languages
            if other != lang and other in self.call_languages
        )

    def node_ids(self) -> set[str]:
        """Every question and outcome id."""
        return set(self.questions) | set(self.outcomes)

    def outcome_of_kind(self, kind: OutcomeKind) -> Outcome:
        """The outcome of a kind the flow must have (emergency, appointment, safety)."""
        for outcome in self.outcomes.values():
            if outcome.kind == kind:
                return outcome
        raise KeyError(kind)  # unreachable for a required kind of a validated flow

    def has_kind(self, kind: OutcomeKind) -> bool:
        """Whether the flow has an outcome of this kind."""
        return any(o.kind == kind for o in self.outcomes.values())

    def unsure_outcome(self) -> Outcome:
        """Where "not sure" about a red flag ends: the flow's unsure outcome, else its safety one."""
        return self.outcome_of_kind("unsure" if self.has_kind("unsure") else "safety")

    def crisis_outcome(self) -> Outcome:
        """Where words of suicide or self-harm end: the flow's crisis outcome, else its emergency one."""
        return self.outcome_of_kind("crisis" if self.has_kind("crisis") else "emergency")

    def yes_calls_911(self, qid: str) -> bool:
        """Whether a yes to the question ends in the emergency outcome: a red flag, or a sign asked
        only on the way to one (a head hurt in the fall)."""
        return self._yes_ends_in(qid, ("emergency",))

    def yes_is_urgent(self, qid: str) -> bool:
        """Whether a yes to the question ends in the emergency outcome or the emergency department."""
        return self._yes_ends_in(qid, ("emergency", "er_now"))

    def _yes_ends_in(self, qid: str, kinds: tuple[str, ...]) -> bool:
        question = self.questions.get(qid)
        if question is None:
            return False
        target = self.outcomes.get(question.yes)
        return question.red_flag or (target is not None and target.kind in kinds)

    def sign_outcome(self, qid: str) -> Outcome | None:
        """Where words of a question's sign lead when said at any point: the outcome its yes leads
        to; or, when its yes asks on (a fall asks whether the head was hurt), the outcome of that
        question's no, the least its sign can call for. None when neither ends in an outcome (or
        there is no such question)."""
        question = self.questions.get(qid)
        if question is None:
            return None
        if question.yes in self.outcomes:
            return self.outcomes[question.yes]
        follow = self.questions.get(question.yes)
        if follow is not None and follow.no in self.outcomes:
            return self.outcomes[follow.no]
        return None

    def urgent_outcome(self) -> Outcome:
        """Where another question's urgent sign, described in a reply, ends: the flow's outcome for
        the emergency department now, else its emergency one."""
        return self.outcome_of_kind("er_now" if self.has_kind("er_now") else "emergency")

    def with_model(self, model: AnswerModel | None) -> Flow:
        """The same flow reading replies with another answer model (None: its exact answers only)."""
        return replace(self, answer_model=model, reader=replace(self.reader, model=model))

    def question_order(self) -> list[str]:
        """Questions in the order a caller who answers no to everything meets them."""
        order: list[str] = []
        node = self.start
        while node in self.questions and node not in order:
            order.append(node)
            node = self.questions[node].no
        order.extend(q for q in self.questions if q not in order)
        return order

    def bind(self, *, emergency_number: str, booking_url: str | None, crisis_number: str = "988") -> Flow:
        """The same flow with placeholders filled in from configuration."""
        values = {"emergency": emergency_number, "crisis": crisis_number, "booking_url": booking_url or ""}
        return replace(
            self,
            questions={k: replace(q, wording=q.wording.filled(values)) for k, q in self.questions.items()},
            outcomes={
                k: replace(
                    o,
                    wording=o.wording.filled(values),
                    booking=o.booking.filled(values) if o.booking is not None and booking_url else None,
                )
                for k, o in self.outcomes.items()
            },
            texts={k: w.filled(values) for k, w in self.texts.items()},
            call_languages={
                k: replace(c, offer=c.offer.format_map(values)) for k, c in self.call_languages.items()
            },
        )


def compose(
    *,
    id: str,
    version: str,
    title: str,
    languages: tuple[str, ...],
    start: str,
    questions: Mapping[str, Question],
    outcomes: Mapping[str, Outcome],
    texts: Mapping[str, Wording],
    words: Mapping[str, Words],
    limits: Limits,
    source: Mapping[str, Any],
    call_languages: Mapping[str, CallLanguage] | None = None,
    answer_model: AnswerModel | None = None,
) -> Flow:
    """A Flow from its parts (already validated), with what is derived from them: the digest, and
    the matchers for answers, emergency and crisis phrases, help requests and language cues."""

    # A question's phrases are an emergency's when its yes calls for the emergency outcome (or asks
    # on), else an urgent sign's: scanned after every emergency phrase, so "went out and fell over"
    # is a faint (911), not only a fall (the emergency department).
    def urgent(q: Question) -> bool:
        target = q.yes if q.yes in outcomes else questions[q.yes].no if q.yes in questions else ""
        return target in outcomes and outcomes[target].kind != "emergency"

    emergency = [(lang, None, text) for lang, w in words.items() for text in w.emergency] + [
        (lang, q.id, text)
        for q in questions.values()
        if not urgent(q)
        for lang, texts in q.phrases.items()
        for text in texts
    ]
    urgent_signs = [(lang, None, text) for lang, w in words.items() for text in w.urgent] + [
        (lang, q.id, text)
        for q in questions.values()
        if urgent(q)
        for lang, texts in q.phrases.items()
        for text in texts
    ]
    negations = frozenset(n for w in words.values() for n in _single_words(w.negations))
    clause_breaks = frozenset(b for w in words.values() for b in _single_words(w.clause_breaks))
    crisis = [(lang, None, text) for lang, w in words.items() for text in w.crisis]
    history = [p for w in words.values() for p in _phrases(w.history)]
    recent = [r for w in words.values() for r in _single_words(w.recent)]
    # The languages' own one-word keywords ("inglés", "spanish"): after them a phrase is about language.
    language_words = [t[0] for w in words.values() for t in _phrases(w.switch) if len(t) == 1]

    def signs(
        texts: Iterable[tuple[str, str | None, str]], *, urgent: bool = False, overdose: bool = False
    ) -> EmergencyPhrases:
        """Phrases of signs, read with the flow's negations, clause breaks and words of time."""
        return EmergencyPhrases.merge(
            texts,
            negations,
            clause_breaks,
            urgent=urgent,
            overdose=overdose,
            history=history,
            recent=recent,
            not_before=language_words,
        )

    understanding = Understanding.of(
        {lang: w.vocabulary() for lang, w in words.items()},
        {q.id: {lang: w.vocabulary() for lang, w in q.words.items()} for q in questions.values()},
    )
    return Flow(
        id=id,
        version=version,
        title=title,
        languages=languages,
        start=start,
        questions=questions,
        outcomes=outcomes,
        texts=texts,
        words=words,
        limits=limits,
        call_languages=dict(call_languages or {}),
        digest=content_digest(source),
        source=source,
        understanding=understanding,
        emergency_phrases=signs(emergency),
        overdose_phrases=signs(
            ((lang, None, text) for lang, w in words.items() for text in w.overdose), overdose=True
        ),
        urgent_phrases=signs(urgent_signs, urgent=True),
        help_phrases=HelpPhrases.merge((lang, w.help, _single_words(w.filler)) for lang, w in words.items()),
        cues=LanguageCues(
            switch={lang: frozenset(" ".join(p) for p in _phrases(w.switch)) for lang, w in words.items()},
            markers={lang: _folded(w.markers) for lang, w in words.items()},
        ),
        crisis_phrases=EmergencyPhrases.merge(
            crisis,
            negations - {p for w in words.values() for p in _single_words(w.loose_negations)},
            # A crisis phrase may hold a word that elsewhere ends a clause ("go to sleep and not
            # wake up"): it is not a break inside these phrases.
            clause_breaks - {w for _, _, text in crisis for w in normal_words(text.replace("|", " "))},
            crisis=True,
            # Only a negation right before cancels words of a crisis ("I don't want to die"): one
            # further back is about something else ("no quiero seguir así, mejor me muero").
            reach=CRISIS_NEGATION_REACH,
        ),
        reader=Reader(
            understanding,
            answer_model,
            cues={lang: _single_words(w.cues) for lang, w in words.items()},
            negations=negations,
            contrasts=frozenset(w for words_of in words.values() for w in _single_words(words_of.contrasts)),
            greetings=frozenset(p for words_of in words.values() for p in _phrases(words_of.greetings)),
        ),
        answer_model=answer_model,
        until_no={
            q.id: UntilNo(
                before=signs(
                    (lang, q.id, text) for lang, texts in q.phrases_until_no.items() for text in texts
                ),
                after=signs(
                    ((lang, None, text) for lang, texts in q.phrases_until_no.items() for text in texts),
                    urgent=True,
                ),
                past=_past_no(start, questions, q.id),
            )
            for q in questions.values()
            if q.phrases_until_no
        },
        lasting=Lasting(
            signs=signs(
                (
                    (lang, None, text)
                    for q in questions.values()
                    for lang, texts in q.phrases_if_lasting.items()
                    for text in texts
                ),
                urgent=True,
            ),
            ways=(
                (_plain(words, "lasting"),),
                (_plain(words, "overnight"), _plain(words, "drained")),
            ),
        )
        if any(q.phrases_if_lasting for q in questions.values())
        else None,
    )


def _plain(words: Mapping[str, Words], name: str) -> EmergencyPhrases:
    """One of the languages' phrase lists, never negated by what comes before it ("has not kept
    anything down since yesterday") nor cut by a word that elsewhere ends a clause ("so weak")."""
    texts = [(lang, None, text) for lang, w in words.items() for text in getattr(w, name)]
    return EmergencyPhrases.merge(texts, (), ())


def _past_no(start: str, questions: Mapping[str, Question], qid: str) -> frozenset[str]:
    """The nodes a conversation reaches only by answering no to the question `qid`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        question = questions.get(node)
        if question is not None:
            todo += [question.yes] if node == qid else [question.yes, question.no]
    everything = set(questions) | {n for q in questions.values() for n in (q.yes, q.no)}
    return frozenset(everything - seen)


def _folded(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(f for t in texts if (f := fold(t)))


def content_digest(data: Mapping[str, Any]) -> str:
    """A short hash of the parsed flow, so comments and layout do not change a flow's identity."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
