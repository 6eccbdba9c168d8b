"""The triage engine: a pure step from (flow, session, reply) to (session, what to say next)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr import answers
from ivr.answers import Answer
from ivr.flow import Flow
from ivr.session import Channel, Session

ReplyKind = Literal["text", "keys", "speech", "silence"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What the person did: sent text, pressed keys, spoke, or let the prompt time out."""

    kind: ReplyKind
    value: str = ""
    confidence: float | None = None


SILENCE = Reply("silence")


@dataclass(frozen=True, slots=True)
class Output:
    """What to convey next, in channel-neutral terms; renderers own the wording of mechanics.

    `notices` are text ids said first, in order; then either the question `ask` awaits an answer,
    or the conversation has reached `outcome` and nothing more is asked.
    """

    lang: str
    notices: tuple[str, ...] = ()
    ask: str | None = None
    outcome: str | None = None


def start(flow: Flow, channel: Channel, *, now: int, lang: str | None = None) -> tuple[Session, Output]:
    """A new conversation: the intro (with the emergency notice) and the first question."""
    language = lang if lang in flow.languages else flow.default_language
    session = Session(
        flow=flow.id,
        digest=flow.digest,
        channel=channel,
        lang=language,
        node=flow.start,
        started=now,
    )
    return session, Output(language, notices=("intro",), ask=flow.start)


def step(flow: Flow, session: Session, reply: Reply) -> tuple[Session, Output]:
    """Apply one reply to a conversation in progress.

    A yes or no moves along the flow; anything else asks the same question again until the
    channel's retries are spent, and then ends with the safety outcome. Never loops forever:
    `limits.max_turns` ends any conversation that somehow keeps going.
    """
    if session.ended:
        raise ValueError("the conversation has ended; start a new one")
    if session.node not in flow.questions:
        return _end(flow, session, flow.outcome_of_kind("safety").id)
    session = session.evolve(turns=session.turns + 1)
    if session.turns > flow.limits.max_turns:
        return _end(flow, session, flow.outcome_of_kind("safety").id)

    question = flow.questions[session.node]
    answer = interpret(reply)
    if answer is Answer.UNCLEAR:
        return _ask_again(flow, session, reply)

    said_yes = answer is Answer.YES
    session = session.evolve(misses=0, answers=(*session.answers, (question.id, said_yes)))
    target = question.yes if said_yes else question.no
    if target in flow.outcomes:
        return _end(flow, session, target)
    return session.evolve(node=target), Output(session.lang, ask=target)


def interpret(reply: Reply) -> Answer:
    if reply.kind == "keys":
        return answers.from_keys(reply.value)
    if reply.kind in ("text", "speech"):
        return answers.from_text(reply.value)
    return Answer.UNCLEAR


def _ask_again(flow: Flow, session: Session, reply: Reply) -> tuple[Session, Output]:
    retries = flow.limits.sms_retries if session.channel == "sms" else flow.limits.voice_retries
    session = session.evolve(misses=session.misses + 1)
    if session.misses > retries:
        return _end(flow, session, flow.outcome_of_kind("safety").id)
    notice = {"silence": "no_input", "keys": "wrong_key"}.get(reply.kind, "not_understood")
    return session, Output(session.lang, notices=(notice,), ask=session.node)


def _end(flow: Flow, session: Session, outcome: str) -> tuple[Session, Output]:
    return session.evolve(node="", outcome=outcome), Output(session.lang, outcome=outcome)
