"""The triage engine: a pure step from (flow, session, input) to (session, what to say next)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain
from typing import Literal

from ivr.core.answers import Answer
from ivr.core.emergency import Match, Scan
from ivr.core.flow import Flow, Outcome
from ivr.core.reading import Reading, model_words
from ivr.core.session import Channel, Session
from ivr.core.words import Said

InputKind = Literal["text", "keys", "speech", "silence"]


@dataclass(frozen=True, slots=True)
class Input:
    """What the person did: sent text, pressed keys, spoke, or let the prompt time out."""

    kind: InputKind
    value: str = ""
    confidence: float | None = None  # speech only; Twilio may leave it out


SILENCE = Input("silence")


@dataclass(frozen=True, slots=True)
class Policy:
    """Operational judgement the engine applies; the defaults are the safe ones."""

    # A spoken no to a red flag heard with less confidence than this (or none) is confirmed by keypad.
    min_speech_confidence: float = 0.6
    # A nurse can take calls: pressing 0 at a question asks to be put through.
    handoff: bool = False


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Output:
    """What to convey next, in channel-neutral terms; renderers own the wording of mechanics.

    `notices` are text ids said first, in order; then either `ask` (a question id) awaits an
    answer, or the conversation has reached `outcome` and nothing more is asked. `keys_only` asks
    for a keypad answer; `offers` says, before the question, the key that picks each other language
    on a call.
    """

    lang: str
    notices: tuple[str, ...] = ()
    ask: str | None = None
    outcome: str | None = None
    keys_only: bool = False
    handoff: bool = False  # put the caller through to a person; `ask` is where they return to
    offers: bool = False
    simple: bool = False  # asked again after a reply not understood: the simplest way to answer


HANDOFF_KEY = "0"


def start(flow: Flow, channel: Channel, *, now: int, opening: Input | None = None) -> tuple[Session, Output]:
    """A new conversation: the intro with the emergency notice, then the first question.

    A text that opens a conversation picks its language (a keyword, or clearly written in it);
    if it already describes an emergency, the emergency outcome is the first reply.
    A call starts in the flow's first language, and its first question offers the others by key.
    Nothing else (not the caller's number or region) picks a language: the caller does.
    """
    lang = flow.default_language
    if opening is not None and opening.kind in ("text", "speech"):
        lang = flow.cues.requested(opening.value) or flow.cues.written_in(opening.value, lang)
    session = Session(
        flow=flow.id, digest=flow.digest, channel=channel, lang=lang, node=flow.start, started=now
    )
    if opening is not None and opening.kind in ("text", "speech"):
        said = Said.of(opening.value)
        scan = _scan(flow, said)
        if scan.stated is not None:
            return _alarm(flow, session, scan.stated)
        if (wanted := flow.help_phrases.asked(said)) is not None:
            # Asked for help first thing: the help text (911 first) takes the place of the intro.
            session = replace(session, lang=_language_of(flow, session, wanted))
            return session, Output(session.lang, notices=("help",), ask=flow.start)
    return session, Output(lang, notices=("intro",), ask=flow.start, offers=_offers(flow, session))


def step(
    flow: Flow, session: Session, said: Input, policy: Policy = DEFAULT_POLICY
) -> tuple[Session, Output]:
    """Apply what the person said, pressed or left unanswered to a conversation in progress.

    In order: words describing an emergency end the triage at once, whatever is pending; a
    language keyword switches language and repeats the notice and the pending question; a request
    for help gets the help text and the pending question again; on a call, a key reserved for a
    language does the same as its keyword; then the reply is read as an answer (see `_answer`).
    `limits.max_turns` ends any conversation that keeps going.
    """
    if session.ended:
        raise ValueError("the conversation has ended; start a new one")
    session = replace(session, turns=session.turns + 1)
    if session.turns > flow.limits.max_turns:
        return _end(flow, session, _safety(flow))
    words = Said.of(said.value) if said.kind in ("text", "speech") else None
    scan = _scan(flow, words, session.node) if words is not None else Scan(None)
    if scan.stated is not None:
        kind = _kind_of(flow, scan.stated)
        if words is not None and kind not in ("crisis", "emergency") and session.node in flow.questions:
            return _urgent(flow, session, said, words=words, scan=scan, policy=policy)
        if session.node in flow.questions:
            session = _noted(session, scan.stated, kind)
        return _alarm(flow, session, scan.stated)
    if session.node not in flow.questions:
        return _end(flow, session, _safety(flow))
    if words is not None and (wanted := flow.cues.requested(words.words, current=session.lang)):
        session = replace(session, lang=wanted, misses=0, confirm=False)
        return session, Output(wanted, notices=("intro",), ask=session.node)
    if words is not None and (asked := flow.help_phrases.asked(words)) is not None:
        session = replace(session, lang=_language_of(flow, session, asked))
        return session, Output(session.lang, notices=("help",), ask=session.node, keys_only=session.confirm)
    if session.node not in flow.questions:
        return _end(flow, session, _safety(flow))
    if (
        session.channel == "voice"
        and said.kind == "keys"
        and (picked := flow.call_language_of_key(said.value))
    ):
        # The key is reserved for its language at every question: never an answer.
        session = replace(session, lang=picked, misses=0, confirm=False)
        return session, Output(picked, notices=("intro",), ask=session.node, offers=_offers(flow, session))
    reading = _read(flow, session, said, words, scan)
    found_in = reading.lang
    if found_in is not None and session.channel == "voice" and session.lang == flow.default_language:
        # An answer only in another language's words, while the call is still in the language it
        # started in (nobody chose it): the caller speaks that language. The answer stands, and the
        # call goes on in their language, the notice first. A caller who chose a language keeps it.
        session, output = _answer(flow, replace(session, lang=found_in), said, reading, policy)
        if output.ask is not None:
            output = replace(output, notices=("intro", *output.notices), offers=_offers(flow, session))
        return session, output
    return _answer(flow, session, said, reading, policy)


def _answer(
    flow: Flow, session: Session, said: Input, reading: Reading, policy: Policy
) -> tuple[Session, Output]:
    """Yes or no moves along the flow. Unsure about a red flag ends with the unsure outcome (call
    911 if in doubt); about a lesser sign, it takes the yes way, the more careful one. A reply read
    as an emergency or a crisis ends there, whatever was asked. Anything else asks again, the second
    time in the simplest terms, until the channel's retries are spent, then ends with the safety
    outcome. A spoken no to a red flag heard faintly waits for the keypad; a spoken yes or unsure is
    always believed."""
    question = flow.questions[session.node]
    answer, how = reading.answer, reading.record
    if policy.handoff and said.kind == "keys" and said.value == HANDOFF_KEY:
        return session, Output(session.lang, ask=question.id, keys_only=session.confirm, handoff=True)
    if answer is Answer.CRISIS:
        return _end(flow, _took(session, question.id, "s", how), flow.crisis_outcome().id)
    if answer is Answer.EMERGENCY:
        return _end(flow, _took(session, question.id, "e", how), _emergency(flow))
    if answer is Answer.URGENT:
        return _end(flow, _took(session, question.id, "g", how), flow.urgent_outcome().id)
    if answer is Answer.HELP:
        return session, Output(session.lang, notices=("help",), ask=question.id, keys_only=session.confirm)
    if session.confirm and said.kind != "keys" and answer not in (Answer.YES, Answer.UNSURE):
        # Waiting for the keypad: only a key, or a yes or unsure (acted on at once), settles it.
        answer = Answer.UNCLEAR
    elif (
        said.kind == "speech"
        and answer is Answer.NO
        and question.red_flag
        and (said.confidence is None or said.confidence < policy.min_speech_confidence)
    ):
        session = _took(session, question.id, "c", how, confirm=True)
        return session, Output(session.lang, ask=question.id, keys_only=True)
    if answer is Answer.UNCLEAR:
        return _ask_again(flow, _took(session, question.id, "x", how), said, ask=question.id)
    if answer is Answer.UNSURE:
        session = _took(session, question.id, "u", how, misses=0, confirm=False)
        if question.red_flag:
            return _end(flow, session, flow.unsure_outcome().id)
        target = question.yes
    else:
        said_yes = answer is Answer.YES
        session = _took(
            session, question.id, "y" if said_yes else "n", how, misses=0, confirm=False, answered=said_yes
        )
        target = question.yes if said_yes else question.no
    if target in flow.outcomes:
        return _end(flow, session, target)
    return replace(session, node=target), Output(session.lang, ask=target)


def _took(
    session: Session,
    question: str,
    taken: str,
    how: str,
    *,
    misses: int | None = None,
    confirm: bool | None = None,
    answered: bool | None = None,
) -> Session:
    """The session with one more reply to `question` recorded as taken, and how (see Session.heard);
    with `answered`, the question's answer too (yes or no), in the same copy."""
    answers = session.answers if answered is None else (*session.answers, (question, answered))
    return replace(
        session,
        heard=(*session.heard, (question, taken)),
        how=(*session.how, how),
        misses=session.misses if misses is None else misses,
        confirm=session.confirm if confirm is None else confirm,
        answers=answers,
    )


def reprompt(flow: Flow, session: Session) -> Output:
    """The prompt pending in a conversation, asked again as it stands (a replayed or late webhook
    gets it): the question, with the offer of each other language on a call."""
    return Output(session.lang, ask=session.node, keys_only=session.confirm, offers=_offers(flow, session))


def _offers(flow: Flow, session: Session) -> bool:
    """Whether a call's prompt in this conversation offers other languages by key."""
    return session.channel == "voice" and bool(flow.call_offers(session.lang))


# How a reply was taken, by its letter in Session.heard, as metrics and reports name it.
HEARD_NAMES = {
    "y": "yes",
    "n": "no",
    "u": "unsure",
    "x": "unclear",
    "c": "unconfirmed",
    "e": "emergency",
    "g": "urgent",
    "s": "crisis",
}


# How sure the answer model must be of a no to overrule words of the very urgent sign asked about
# ("droopy eyelids run in my family" to "has an eyelid begun to droop lately?").
OWN_SIGN_NO = 0.8


def _urgent(
    flow: Flow, session: Session, said: Input, *, words: Said, scan: Scan, policy: Policy
) -> tuple[Session, Output]:
    """Words of a sign for the emergency department (not 911). The reply is read as an answer too:
    at the sign's own question the answer model reads it in context, and only a confident no
    overrules the words; at another question, an answer that calls for more (an emergency, a yes
    or doubt about a red flag) wins over the emergency department."""
    if scan.stated is None:
        raise ValueError("no urgent sign in this reply")
    question = flow.questions[session.node]
    reading = _read(flow, session, said, words, Scan(None, scan.denied, scan.cleared, scan.masked))
    if scan.stated.question == session.node:
        if reading.answer is Answer.NO and (reading.score or 0.0) >= OWN_SIGN_NO:
            return _answer(flow, session, said, reading, policy)
        return _answer(flow, session, said, Reading(Answer.YES, "rule", lang=reading.lang), policy)
    # Not a crisis heard by the model alone: words of the urgent sign were found, and the model's
    # crisis class leans on words like "myself" ("I peed myself") that such replies share.
    more = reading.answer is Answer.EMERGENCY or (
        flow.yes_calls_911(question.id) and reading.answer in (Answer.YES, Answer.UNSURE)
    )
    if more:
        return _answer(flow, session, said, reading, policy)
    return _alarm(flow, _noted(session, scan.stated, _kind_of(flow, scan.stated)), scan.stated)


def _noted(session: Session, match: Match, kind: str) -> Session:
    """A phrase found in a reply to the pending question, recorded as how the reply was taken: a
    yes when it describes the very sign asked about, else an emergency, a crisis or an urgent sign."""
    if match.question == session.node and not match.crisis:
        session = _took(session, session.node, "y", "r")
        return replace(session, answers=(*session.answers, (session.node, True)))
    letter = "s" if kind == "crisis" else "e" if kind == "emergency" else "g"
    return _took(session, session.node, letter, "r")


@dataclass(frozen=True, slots=True)
class Heard:
    """How a step took what was said to the pending question: its class (a HEARD_NAMES value), and
    how it was decided (key, rule, or model with its probability: see Reading.record)."""

    question: str
    taken: str
    how: str

    @property
    def decided_by(self) -> str:
        """key, rule or model: for metrics."""
        return {"k": "key", "r": "rule", "m": "model"}.get(self.how[:1], "none")


def heard(flow: Flow, before: Session, after: Session) -> Heard | None:
    """How a step took what the person said in answer to the question that was pending, for counting
    where people struggle and how replies are read; None when what they said was not an answer to a
    question (a language switch, help, the nurse)."""
    if len(after.heard) <= len(before.heard):
        return None
    question, taken = after.heard[-1]
    how = after.how[-1] if len(after.how) == len(after.heard) else "-"
    return Heard(question, HEARD_NAMES[taken], how)


def interpret(flow: Flow, said: Input, *, lang: str | None = None, question: str | None = None) -> Reading:
    """How an input is read as an answer to `question` in a conversation in `lang`: crisis and
    emergency phrases first, as `step` acts on them, then the answer."""
    session = Session(
        flow=flow.id,
        digest=flow.digest,
        channel="voice" if said.kind == "speech" else "sms",
        lang=lang or flow.default_language,
        node=question or flow.start,
        started=0,
    )
    words = Said.of(said.value) if said.kind in ("text", "speech") else None
    scan = _scan(flow, words, session.node) if words is not None else Scan(None)
    if scan.stated is not None:
        kind = _kind_of(flow, scan.stated)
        answer = Answer.CRISIS if kind == "crisis" else Answer.EMERGENCY if kind == "emergency" else None
        if answer is not None:
            return Reading(answer, "rule")
        return Reading(Answer.YES if scan.stated.question == session.node else Answer.URGENT, "rule")
    return _read(flow, session, said, words, scan)


def model_input(flow: Flow, text: str) -> tuple[str, ...]:
    """The words the answer model reads for a reply (negated or past emergency phrases masked, as
    in a conversation): what training must see too."""
    said = Said.of(text)
    return model_words(said, _scan(flow, said).masked)


def _scan(flow: Flow, said: Said, node: str | None = None) -> Scan:
    """Crisis phrases, then emergency phrases, then the phrases of urgent signs, in a text at the
    node a conversation is at (a question's `phrases_until_no` count as its sign before its no is
    passed, after that as an urgent sign; its `phrases_if_lasting` are an urgent sign when the text
    says it has lasted a day or more); what none of them states, the denials of all."""
    lead = flow.understanding.any_language.lead(said)
    crisis = flow.crisis_phrases.scan(said, lead)
    if crisis.stated is not None:
        return crisis
    overdose = flow.overdose_phrases.scan(said, lead)
    if overdose.stated is not None and flow.reader.hears_crisis(said, node):
        # Too many pills, and the model hears a crisis in the rest ("...because I can't go on"):
        # the crisis outcome, whose reply says to call 911 for too many pills as well.
        return replace(overdose, stated=replace(overdose.stated, crisis=True))
    conditional = [u.phrases_at(node) for u in flow.until_no.values()]
    later = [
        *(p for p in conditional if not p.urgent),
        flow.urgent_phrases,
        *(p for p in conditional if p.urgent),
    ]
    scans: list[Scan] = []
    for scan in chain(
        (flow.emergency_phrases.scan(said, lead), overdose), (p.scan(said, lead) for p in later)
    ):
        if scan.stated is not None:
            return scan
        scans.append(scan)
    if flow.lasting is not None and (lasted := flow.lasting.scan(said, lead)) is not None:
        return lasted
    # Negated words of a crisis ("I don't want to die") are masked for the model too.
    denied: frozenset[str] = frozenset().union(*(s.denied for s in scans))
    cleared: frozenset[tuple[int, int]] = frozenset().union(*(s.cleared for s in scans))
    masked: frozenset[tuple[int, int]] = crisis.masked.union(*(s.masked for s in scans))
    return Scan(None, denied, cleared, masked)


def _read(flow: Flow, session: Session, said: Input, words: Said | None, scan: Scan) -> Reading:
    """How a reply is read as an answer to the pending question (see ivr.core.reading)."""
    if words is None:
        return flow.reader.keys(said.value) if said.kind == "keys" else Reading(Answer.UNCLEAR, "none")
    return flow.reader.read(
        words,
        session.lang,
        question=session.node,
        denied=session.node in scan.denied,
        masked=scan.masked,
        denied_other=bool(scan.denied - {session.node}),
        yes_is_urgent=flow.yes_is_urgent(session.node),
    )


def _kind_of(flow: Flow, match: Match) -> str:
    """The outcome kind a phrase found in a text leads to: crisis, emergency, or the kind of the
    outcome its question's yes leads to (an urgent sign: the emergency department now)."""
    return _outcome_of(flow, match).kind


def _outcome_of(flow: Flow, match: Match) -> Outcome:
    """The outcome a phrase found in a text leads to: the crisis one, its question's sign outcome,
    the urgent one for general words of the emergency department, else the emergency one."""
    if match.crisis:
        return flow.crisis_outcome()
    outcome = flow.sign_outcome(match.question) if match.question is not None else None
    if outcome is not None:
        return outcome
    return flow.urgent_outcome() if match.urgent else flow.outcome_of_kind("emergency")


def _alarm(flow: Flow, session: Session, match: Match) -> tuple[Session, Output]:
    """The end a crisis, emergency or urgent phrase leads to, in the language of the phrase."""
    session = replace(session, lang=_language_of(flow, session, match.langs))
    return _end(flow, session, _outcome_of(flow, match).id)


def _language_of(flow: Flow, session: Session, langs: frozenset[str]) -> str:
    """The language to answer words of `langs` in: the conversation's own if the words belong to it
    ("911"), else theirs ("se desmayó" in an English conversation)."""
    if not langs or session.lang in langs:
        return session.lang
    return next(lang for lang in flow.languages if lang in langs)


def _ask_again(flow: Flow, session: Session, said: Input, *, ask: str) -> tuple[Session, Output]:
    retries = flow.limits.sms_retries if session.channel == "sms" else flow.limits.voice_retries
    session = replace(session, misses=session.misses + 1)
    if session.misses > retries:
        return _end(flow, session, _safety(flow))
    # A caller who did not understand the question may not speak its language: offer the others again.
    output = Output(
        session.lang,
        notices=(_miss_notice(said),),
        ask=ask,
        keys_only=session.confirm,
        offers=_offers(flow, session),
        simple=True,
    )
    return session, output


def _miss_notice(said: Input) -> str:
    return {"silence": "no_input", "keys": "wrong_key"}.get(said.kind, "not_understood")


def _emergency(flow: Flow) -> str:
    return flow.outcome_of_kind("emergency").id


def _safety(flow: Flow) -> str:
    return flow.outcome_of_kind("safety").id


def _end(flow: Flow, session: Session, outcome: str) -> tuple[Session, Output]:
    return replace(session, node="", outcome=outcome, confirm=False), Output(session.lang, outcome=outcome)
