"""The service layer: one turn of a conversation, from a channel's event to the engine and back."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from ivr.application.ports import ConversationStore
from ivr.application.registry import FlowRegistry
from ivr.core import carrier, engine, recorded
from ivr.core.engine import DEFAULT_POLICY, Input, Output, Policy
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.core.session import Session, SessionDecodeError, decode, encode
from ivr.store.keys import Keys
from ivr.store.sessions import Decision, Snapshot

log = logging.getLogger(__name__)

# The mark that the nurse took a call must outlast the call with them: Twilio's <Dial timeLimit>
# defaults to four hours.
NURSE_MARK_TTL = 4 * 3600 + 600
# An outcome's offer of its advice by text stands while the outcome and the offer are said (about a
# minute at most), with room to spare; a key press after that finds nothing and sends nothing.
OFFER_TTL = 300


# What a turn did besides a step of the flow, for whoever observes it (ivr.ops.observer): a sender's
# opt-out or opt-in, a help text, the rate limit, a message ignored (nothing sent), and how a handoff
# to the nurse ended.
TurnEvent = Literal[
    "",
    "opted_out",
    "opted_in",
    "help",
    "rate_limited",
    "ignored",
    "handed_off",
    "nurse_declined",
    "nurse_unanswered",
]


@dataclass(frozen=True, slots=True)
class Turn:
    """The result of one webhook: what to render, on which flow, and the session it left.

    `session` is None when the turn did not involve one (a repeat, a help text, a paused sender).
    """

    flow: Flow
    output: Output
    session: Session | None = None
    token: str = ""  # voice only: names the prompt now awaiting an answer
    fresh: bool = False  # this turn started a new conversation
    replayed: bool = False  # a repeat of a message already answered: the same reply again
    event: TurnEvent = ""
    heard: engine.Heard | None = None  # how what was said to the pending question was taken


@dataclass(frozen=True, slots=True)
class TriageLimits:
    """Operational limits on texts, from configuration."""

    sms_ttl: int = 3600
    voice_ttl: int = 900
    replay_ttl: int = 600  # how long the reply to a MessageSid is kept to answer repeats
    texts_per_window: int = 20  # more texts than this from one sender in the window pause replies
    text_window: int = 300
    opt_out_ttl: int = 400 * 86400  # an opt-out stands this long after it is made (then expires)


@dataclass(frozen=True, slots=True)
class CallEnd:
    """What a finished call left behind."""

    abandoned: bool  # the caller hung up before an outcome
    session: Session | None


class _FlowNeeded(Exception):
    """A turn met a conversation, or a recorded reply, on a flow version this process has not
    loaded. Reading it from the archive is a Redis call, which is not made while the conversation
    is locked: the turn stops there, the flow is fetched, and the turn is decided again."""

    def __init__(self, digest: str, flow_id: str | None = None) -> None:
        super().__init__(digest)
        self.digest = digest
        self.flow_id = flow_id


@dataclass
class _Flows:
    """The flows one turn may need, as far as this process knows them without asking Redis."""

    registry: FlowRegistry
    # Digests already looked for in the archive: found (and now loaded) or gone, never looked for
    # twice, so a turn is decided again at most once per flow version it meets.
    looked_for: set[str] = field(default_factory=set)

    def pinned(self, flow_id: str, digest: str) -> Flow | None:
        """The flow a conversation is pinned to; _FlowNeeded if it must be fetched first."""
        flow = self.registry.loaded(flow_id, digest)
        if flow is None and digest not in self.looked_for:
            raise _FlowNeeded(digest, flow_id)
        return flow

    def of_reply(self, digest: str) -> Flow | None:
        """The flow a recorded reply was made on; _FlowNeeded if it must be fetched first."""
        flow = self.registry.known(digest)
        if flow is None and digest not in self.looked_for:
            raise _FlowNeeded(digest)
        return flow

    async def fetch(self, needed: _FlowNeeded) -> None:
        """Load a flow from the archive into the registry, outside any conversation's lock."""
        self.looked_for.add(needed.digest)
        if needed.flow_id is not None:
            await self.registry.pinned(needed.flow_id, needed.digest)
        else:
            await self.registry.with_digest(needed.digest)


class Triage:
    """Runs conversations: loads, steps the engine, saves, atomically per conversation."""

    def __init__(
        self,
        registry: FlowRegistry,
        store: ConversationStore,
        pseudonyms: Pseudonyms,
        *,
        limits: TriageLimits | None = None,
        policy: Policy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
        advanced_opt_out: bool = False,
    ) -> None:
        self.advanced_opt_out = advanced_opt_out  # Twilio reports every keyword it acts on (OptOutType)
        self.registry = registry
        self.store = store
        self.pseudonyms = pseudonyms
        self.limits = limits or TriageLimits()
        self.policy = policy
        self.clock = clock

    # ---- texts ------------------------------------------------------------------------------

    async def text(
        self, our_number: str, sender: str, body: str, message_sid: str, *, opt_out_type: str = ""
    ) -> Turn:
        """An incoming SMS. Opting out, back in and help first; then, unless the sender has opted out
        or is sending too fast, a step of the triage (or the start of one).

        Twilio answers every carrier keyword itself, with or without Advanced Opt-Out ("By default,
        Twilio automatically handles STOP, HELP, START, and other reserved keywords... Twilio returns
        standard replies", its support article on customizing HELP/STOP messages), so the line never
        sends a second reply to one: it records what the keyword did and answers with nothing. When
        Twilio reports what it did (`opt_out_type`, sent with Advanced Opt-Out) its word is followed;
        without it, the line's own lists of Twilio's default keywords apply, unless
        `advanced_opt_out` says Twilio reports every keyword it acts on. A sender who has opted out is
        still answered when their text describes an emergency: if Twilio blocks the reply nothing is
        lost, and if it delivers it, silence would be.
        """
        keys = Keys("m", self.pseudonyms.sms_conversation(our_number, sender))
        current = self.registry.current
        by_twilio = carrier.reported(opt_out_type)
        word = by_twilio if by_twilio is not None or self.advanced_opt_out else carrier.keyword(body)
        if word == "stop":
            await self.store.opt_out(keys, self.limits.opt_out_ttl)
            return Turn(current, Output(current.default_language), event="opted_out")

        now = int(self.clock())
        said = Input("text", body)
        opting_in = word == "start" or (
            by_twilio is None and not self.advanced_opt_out and carrier.opts_in_when_opted_out(body)
        )

        async def decide(snapshot: Snapshot, flows: _Flows) -> Decision[Turn]:
            unchanged = snapshot.session
            if snapshot.replay is not None and (repeat := self._replay(snapshot.replay, flows)):
                return Decision(unchanged, repeat)
            if snapshot.opted_out:
                turn = self._while_opted_out(current, said, now, snapshot, opting_in=opting_in)
                return Decision(unchanged, turn, _record(turn) if turn.event != "ignored" else None)
            if word == "help" or (word == "start" and carrier.keyword(body) == "start"):
                # Twilio has answered this text itself; a reply from the line would be a second one.
                # An opt-in word that is also an answer (YES) is taken as the answer instead, below.
                turn = Turn(current, Output(current.default_language), event="help" if word == "help" else "")
                return Decision(unchanged, turn, _record(turn))
            if snapshot.texts_in_window > self.limits.texts_per_window:
                return Decision(unchanged, self._paused(current, snapshot.texts_in_window))
            pinned = self._resume(snapshot.session, flows)
            if pinned is None:
                session, output = engine.start(current, "sms", now=now, opening=said)
                turn = Turn(current, output, session, fresh=True)
            else:
                flow, before = pinned
                session, output = engine.step(flow, before, said, self.policy)
                turn = Turn(flow, output, session, heard=engine.heard(flow, before, session))
            return Decision(_save(turn.session), turn, _record(turn))

        turn = await self._turn(
            keys,
            self.limits.sms_ttl,
            decide,
            message_sid=message_sid,
            count_window=self.limits.text_window,
            count_limit=self.limits.texts_per_window,
            replay_ttl=self.limits.replay_ttl,
        )
        if turn.event == "opted_in" and not turn.replayed:
            await self.store.opt_in(keys)
        await self.registry.keep_published(turn.flow)
        return turn

    def _while_opted_out(
        self, flow: Flow, said: Input, now: int, snapshot: Snapshot, *, opting_in: bool
    ) -> Turn:
        """A text from a sender who has opted out: back in (silently: Twilio has confirmed it), the
        emergency outcome if it describes an emergency, else nothing at all."""
        if opting_in:
            return Turn(flow, Output(flow.default_language), event="opted_in")
        if snapshot.texts_in_window <= self.limits.texts_per_window:
            session, output = engine.start(flow, "sms", now=now, opening=said)
            if output.outcome is not None and flow.outcomes[output.outcome].kind == "emergency":
                log.info("emergency words from a sender who opted out: answered")
                return Turn(flow, output, session, fresh=True)
        return Turn(flow, Output(flow.default_language), event="ignored")

    def _paused(self, flow: Flow, count: int) -> Turn:
        """Too many texts: one notice (with the 911 instruction) as the limit is crossed, then silence.
        It ends loops with auto-responders and caps what a flood can cost."""
        if count == self.limits.texts_per_window + 1:
            log.warning("sender paused: too many texts", extra={"limit": self.limits.texts_per_window})
            return Turn(flow, Output(flow.default_language, notices=("rate_limited",)), event="rate_limited")
        return Turn(flow, Output(flow.default_language), event="rate_limited")

    @staticmethod
    def _replay(raw: bytes, flows: _Flows) -> Turn | None:
        found = recorded.decode(raw)
        if found is None:
            return None
        flow = flows.of_reply(found.digest)
        if flow is None:
            return None
        return Turn(flow, found.output, replayed=True)

    # ---- calls ------------------------------------------------------------------------------

    async def call_started(self, call_sid: str) -> Turn:
        """A new call: the notice and the first prompt, replacing anything stored for the call."""
        keys = Keys("v", call_sid)
        now = int(self.clock())

        async def decide(snapshot: Snapshot, flows: _Flows) -> Decision[Turn]:
            turn = self._start_call(call_sid, now)
            return Decision(_save(turn.session), turn)

        turn = await self._turn(keys, self.limits.voice_ttl, decide)
        await self.registry.keep_published(turn.flow)
        return turn

    async def call_input(self, call_sid: str, token: str, said: Input) -> Turn:
        """Keys, speech or silence in answer to the prompt named by `token`.

        A token that does not name the current prompt is a replay or a late duplicate: the
        current prompt is given again and nothing advances. A webhook for a call that has already
        ended gets an empty answer and leaves nothing behind.
        """

        def act(flow: Flow, session: Session, stored: bytes | None) -> Decision[Turn]:
            token_now = self._token(call_sid, session)
            if token != token_now:
                return Decision(stored, Turn(flow, engine.reprompt(flow, session), session, token_now))
            after, output = engine.step(flow, session, said, self.policy)
            heard = engine.heard(flow, session, after)
            return Decision(
                _save(after), Turn(flow, output, after, self._token(call_sid, after), heard=heard)
            )

        turn = await self._on_call(call_sid, act)
        await self.registry.keep_published(turn.flow)
        return turn

    async def nurse_took(self, token: str) -> None:
        """The nurse pressed the key to take the call put through at the prompt `token` names."""
        await self.store.mark(Keys("h", token).accepted, NURSE_MARK_TTL)

    async def call_handed_back(self, call_sid: str, token: str, dial_status: str) -> Turn:
        """The call to the nurse is over. Taken by the nurse (the leg completed and they pressed the
        key): the triage ends there and the call is hung up. Anything else, including a leg answered
        by voicemail or by someone who pressed nothing (Twilio reports both as completed): back to
        the question the caller was on."""
        taken = dial_status == "completed" and await self.store.take(Keys("h", token).accepted)

        def act(flow: Flow, session: Session, stored: bytes | None) -> Decision[Turn]:
            token_now = self._token(call_sid, session)
            if taken and token == token_now:
                return Decision(None, Turn(flow, Output(session.lang), session, event="handed_off"))
            output = Output(
                session.lang,
                notices=("nurse_unavailable",) if token == token_now else (),
                ask=session.node,
                keys_only=session.confirm,
            )
            event: TurnEvent = ""
            if token == token_now:
                event = "nurse_declined" if dial_status == "completed" else "nurse_unanswered"
            return Decision(stored, Turn(flow, output, session, token_now, event=event))

        return await self._on_call(call_sid, act)

    async def _on_call(
        self, call_sid: str, act: Callable[[Flow, Session, bytes | None], Decision[Turn]]
    ) -> Turn:
        """A turn of a call in progress: `act` on its flow and session (and the stored bytes, to
        leave unchanged). A call that has ended gets an empty answer and is not revived; one with
        nothing stored (expired, or its flow gone) starts again."""
        keys = Keys("v", call_sid)
        now = int(self.clock())

        async def decide(snapshot: Snapshot, flows: _Flows) -> Decision[Turn]:
            if snapshot.finished:
                current = self.registry.current
                ignored = Turn(current, Output(current.default_language), event="ignored")
                return Decision(snapshot.session, ignored)
            pinned = self._resume(snapshot.session, flows)
            if pinned is None:
                turn = self._start_call(call_sid, now)
                return Decision(_save(turn.session), turn)
            flow, session = pinned
            return act(flow, session, snapshot.session)

        return await self._turn(keys, self.limits.voice_ttl, decide)

    async def offer_followup(self, token: str, flow: Flow, output: Output) -> None:
        """Keep what a call's outcome said, under the step token of its offer of the advice by text,
        for the caller to ask for it (once) in the next minutes."""
        encoded = recorded.encode(recorded.Recorded(flow.digest, output))
        await self.store.keep(Keys("f", token).offer, encoded, OFFER_TTL)

    async def take_followup(self, token: str) -> tuple[Flow, Output] | None:
        """The outcome a caller asks to have by text, once: a repeat of the request, or one after the
        offer lapsed, gets None."""
        raw = await self.store.take_value(Keys("f", token).offer)
        found = recorded.decode(raw) if raw is not None else None
        flow = await self.registry.with_digest(found.digest) if found is not None else None
        if found is None or flow is None or found.output.outcome not in flow.outcomes:
            return None
        return flow, found.output

    async def opted_out(self, our_number: str, number: str) -> bool:
        """Whether a number has opted out of texts from one of our numbers."""
        return await self.store.opted_out(Keys("m", self.pseudonyms.sms_conversation(our_number, number)))

    async def call_ended(self, call_sid: str) -> CallEnd:
        """The call is over: forget it at once; a session still present means a hang-up mid-triage."""
        raw = await self.store.finish_call(Keys("v", call_sid), self.limits.voice_ttl)
        session = None
        if raw is not None:
            try:
                session = decode(raw)
            except SessionDecodeError:
                session = None
        return CallEnd(abandoned=raw is not None, session=session)

    def _start_call(self, call_sid: str, now: int) -> Turn:
        flow = self.registry.current
        session, output = engine.start(flow, "voice", now=now)
        return Turn(flow, output, session, self._token(call_sid, session), fresh=True)

    def _token(self, call_sid: str, session: Session) -> str:
        return self.pseudonyms.step_token(call_sid, session.turns)

    # ---- shared -----------------------------------------------------------------------------

    async def _turn(
        self,
        keys: Keys,
        ttl_seconds: int,
        decide: Callable[[Snapshot, _Flows], Awaitable[Decision[Turn]]],
        *,
        message_sid: str | None = None,
        count_window: int = 0,
        count_limit: int = 0,
        replay_ttl: int = 600,
    ) -> Turn:
        """A turn through the store, deciding only on what this process holds: a flow version it
        must fetch first stops the turn, is read from the archive outside the conversation's lock,
        and the turn is decided again (each version at most once, so this ends). A text so retried
        is counted twice toward the sender's rate limit, once after a deploy at most."""
        # Bounded: each _FlowNeeded names a digest not looked for yet, and fetch marks it looked for.
        flows = _Flows(self.registry)
        while True:
            try:
                return await self.store.turn(
                    keys,
                    ttl_seconds,
                    lambda snapshot: decide(snapshot, flows),
                    message_sid=message_sid,
                    count_window=count_window,
                    count_limit=count_limit,
                    replay_ttl=replay_ttl,
                )
            except _FlowNeeded as needed:
                await flows.fetch(needed)

    @staticmethod
    def _resume(raw: bytes | None, flows: _Flows) -> tuple[Flow, Session] | None:
        """The stored conversation and the flow it is pinned to, or None to start afresh."""
        if raw is None:
            return None
        try:
            session = decode(raw)
        except SessionDecodeError:
            log.warning("stored session unreadable; starting a new conversation")
            return None
        if session.ended:
            return None
        flow = flows.pinned(session.flow, session.digest)
        if flow is None:
            log.warning(
                "the flow version of a conversation is gone; starting it again",
                extra={"flow": session.flow, "digest": session.digest},
            )
            return None
        return flow, session


def _save(session: Session | None) -> bytes | None:
    """Ended conversations are deleted: nothing about them outlives the reply."""
    return None if session is None or session.ended else encode(session)


def _record(turn: Turn) -> bytes:
    return recorded.encode(recorded.Recorded(turn.flow.digest, turn.output))
