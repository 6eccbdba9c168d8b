"""The triage engine: a pure step from (flow, session, input) to (session, what to say next)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ivr.core import answers
from ivr.core.answers import Answer
from ivr.core.emergency import Scan
from ivr.core.flow import Flow
from ivr.core.session import Channel, Session
from ivr.core.words import Said

InputKind = Literal["text", "keys", "speech", "silence"]

# The node of a call that waited for a language choice by key, before the first question. Calls
# no longer start there (a key picks a language at any question); a call stored there by an older
# version of the line is still served from it, so a key pressed at that menu is never an answer.
LANGUAGE_MENU = "@language"


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

    `notices` are text ids said first, in order; then either `ask` (a question id, or the old
    language menu) awaits an answer, or the conversation has reached `outcome` and nothing more
    is asked. `keys_only` asks for a keypad answer; `offers` says, before the question, the key
    that picks each other language on a call; `every_language` says the notices in each of the
    flow's languages in turn (the old language menu).
    """

    lang: str
    notices: tuple[str, ...] = ()
    ask: str | None = None
    outcome: str | None = None
    keys_only: bool = False
    every_language: bool = False
    handoff: bool = False  # put the caller through to a person; `ask` is where they return to
    offers: bool = False


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
            return _end(
                flow, replace(session, lang=_language_of(flow, session, scan.stated.langs)), _emergency(flow)
            )
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
    scan = _scan(flow, words) if words is not None else Scan(None)
    if scan.stated is not None:
        return _end(
            flow, replace(session, lang=_language_of(flow, session, scan.stated.langs)), _emergency(flow)
        )
    if words is not None and (wanted := flow.cues.requested(said.value)):
        node = flow.start if session.node == LANGUAGE_MENU else session.node
        session = replace(session, lang=wanted, node=node, misses=0, confirm=False)
        return session, Output(wanted, notices=("intro",), ask=node)
    if words is not None and (asked := flow.help_phrases.asked(words)) is not None:
        node = flow.start if session.node == LANGUAGE_MENU else session.node
        session = replace(session, lang=_language_of(flow, session, asked), node=node)
        return session, Output(session.lang, notices=("help",), ask=node, keys_only=session.confirm)
    if session.node == LANGUAGE_MENU:
        return _choose_language(flow, session, said)
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
    answer, found_in = _read(flow, session, said, words, scan)
    if found_in is not None and session.channel == "voice" and session.lang == flow.default_language:
        # An answer only in another language's words, while the call is still in the language it
        # started in (nobody chose it): the caller speaks that language. The answer stands, and the
        # call goes on in their language, the notice first. A caller who chose a language keeps it.
        session, output = _answer(flow, replace(session, lang=found_in), said, answer, policy)
        if output.ask is not None:
            output = replace(output, notices=("intro", *output.notices), offers=_offers(flow, session))
        return session, output
    return _answer(flow, session, said, answer, policy)


def _answer(
    flow: Flow, session: Session, said: Input, answer: Answer, policy: Policy
) -> tuple[Session, Output]:
    """Yes or no moves along the flow. Unsure about a red flag ends with the unsure outcome (call
    911 if in doubt); about a lesser sign, it takes the yes way, the more careful one. Anything
    else asks again until the channel's retries are spent, then ends with the safety outcome.
    A spoken no to a red flag heard faintly waits for the keypad; a spoken yes or unsure is
    always believed."""
    question = flow.questions[session.node]
    if policy.handoff and said.kind == "keys" and said.value == HANDOFF_KEY:
        return session, Output(session.lang, ask=question.id, keys_only=session.confirm, handoff=True)
    if session.confirm and said.kind != "keys" and answer not in (Answer.YES, Answer.UNSURE):
        # Waiting for the keypad: only a key, or a yes or unsure (acted on at once), settles it.
        answer = Answer.UNCLEAR
    elif (
        said.kind == "speech"
        and answer is Answer.NO
        and question.red_flag
        and (said.confidence is None or said.confidence < policy.min_speech_confidence)
    ):
        session = _took(session, question.id, "c", confirm=True)
        return session, Output(session.lang, ask=question.id, keys_only=True)
    if answer is Answer.UNCLEAR:
        return _ask_again(flow, _took(session, question.id, "x"), said, ask=question.id)
    if answer is Answer.UNSURE:
        session = _took(session, question.id, "u", misses=0, confirm=False)
        if question.red_flag:
            return _end(flow, session, flow.unsure_outcome().id)
        target = question.yes
    else:
        said_yes = answer is Answer.YES
        session = _took(session, question.id, "y" if said_yes else "n", misses=0, confirm=False)
        session = replace(session, answers=(*session.answers, (question.id, said_yes)))
        target = question.yes if said_yes else question.no
    if target in flow.outcomes:
        return _end(flow, session, target)
    return replace(session, node=target), Output(session.lang, ask=target)


def _took(
    session: Session, question: str, taken: str, *, misses: int | None = None, confirm: bool | None = None
) -> Session:
    """The session with one more reply to `question` recorded as taken (see Session.heard)."""
    return replace(
        session,
        heard=(*session.heard, (question, taken)),
        misses=session.misses if misses is None else misses,
        confirm=session.confirm if confirm is None else confirm,
    )


def _choose_language(flow: Flow, session: Session, said: Input) -> tuple[Session, Output]:
    """The old language menu (see LANGUAGE_MENU): key n picks the flow's n-th language. Unanswered,
    the menu gives way to the first language: a caller who cannot choose is better served by
    questions than by an ending."""
    if said.kind == "keys" and said.value.isdigit() and 1 <= int(said.value) <= len(flow.languages):
        lang = flow.languages[int(said.value) - 1]
    else:
        session = replace(session, misses=session.misses + 1)
        if session.misses <= flow.limits.voice_retries:
            notice = _miss_notice(said)
            return session, Output(session.lang, notices=(notice,), ask=LANGUAGE_MENU, every_language=True)
        lang = flow.default_language
    session = replace(session, lang=lang, node=flow.start, misses=0)
    return session, Output(lang, ask=flow.start, offers=_offers(flow, session))


def reprompt(flow: Flow, session: Session) -> Output:
    """The prompt pending in a conversation, asked again as it stands (a replayed or late webhook
    gets it): the question, with the offer of each other language on a call, or the old menu."""
    if session.node == LANGUAGE_MENU:
        return Output(session.lang, ask=LANGUAGE_MENU, every_language=True)
    return Output(session.lang, ask=session.node, keys_only=session.confirm, offers=_offers(flow, session))


def _offers(flow: Flow, session: Session) -> bool:
    """Whether a call's prompt in this conversation offers other languages by key."""
    return session.channel == "voice" and bool(flow.call_offers(session.lang))


# How a reply was taken, by its letter in Session.heard, as metrics and reports name it.
HEARD_NAMES = {"y": "yes", "n": "no", "u": "unsure", "x": "unclear", "c": "unconfirmed"}


def heard(flow: Flow, before: Session, after: Session) -> tuple[str, str] | None:
    """How a step took what the person said in answer to the question that was pending, for counting where
    people struggle: (question id, "yes" | "no" | "unsure" | "unclear" | "unconfirmed"), or None when
    what they said was not an answer to a question (a language switch, emergency words, help, the nurse)."""
    if len(after.heard) <= len(before.heard):
        return None
    question, taken = after.heard[-1]
    return question, HEARD_NAMES[taken]


def interpret(flow: Flow, said: Input, *, lang: str | None = None, question: str | None = None) -> Answer:
    """The class of an input as an answer to `question` in a conversation in `lang` (emergency words
    aside: `step` acts on those first)."""
    if said.kind not in ("text", "speech"):
        return answers.from_keys(said.value) if said.kind == "keys" else Answer.UNCLEAR
    words = Said.of(said.value)
    session = Session(
        flow=flow.id,
        digest=flow.digest,
        channel="sms",
        lang=lang or flow.default_language,
        node=question or flow.start,
        started=0,
    )
    return _read(flow, session, said, words, _scan(flow, words))[0]


def _scan(flow: Flow, said: Said) -> Scan:
    return flow.emergency_phrases.scan(said, flow.understanding.any_language.lead(said))


def _read(
    flow: Flow, session: Session, said: Input, words: Said | None, scan: Scan
) -> tuple[Answer, str | None]:
    """The class of a reply, and the language it was found in when that is not the conversation's
    (see Understanding.read)."""
    if words is None:
        return (answers.from_keys(said.value) if said.kind == "keys" else Answer.UNCLEAR), None
    return flow.understanding.read(
        words, session.lang, question=session.node, cleared=scan.cleared, denied=session.node in scan.denied
    )


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
