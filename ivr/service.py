"""The service layer: one turn of a conversation, from a channel's event to the engine and back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ivr import engine
from ivr.engine import DEFAULT_POLICY, Output, Policy, Reply
from ivr.flow import Flow
from ivr.privacy import Pseudonyms
from ivr.registry import FlowRegistry
from ivr.session import Session, SessionDecodeError, decode, encode
from ivr.store import SessionStore, conversation_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Turn:
    """The result of one webhook: what to render, on which flow, and the session it left."""

    flow: Flow
    output: Output
    session: Session
    token: str = ""  # voice only: names the prompt now awaiting an answer
    fresh: bool = False  # this turn started a new conversation


class Triage:
    """Runs conversations: loads the session, steps the engine, saves, atomically per conversation."""

    def __init__(
        self,
        registry: FlowRegistry,
        store: SessionStore,
        pseudonyms: Pseudonyms,
        *,
        sms_ttl: int,
        voice_ttl: int,
        policy: Policy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.store = store
        self.pseudonyms = pseudonyms
        self.sms_ttl = sms_ttl
        self.voice_ttl = voice_ttl
        self.policy = policy
        self.clock = clock

    async def text(self, our_number: str, sender: str, body: str) -> Turn:
        """An incoming SMS: starts a triage when none is in progress, else answers the question."""
        key = conversation_key("m", self.pseudonyms.sms_conversation(our_number, sender))
        now = int(self.clock())
        reply = Reply("text", body)

        async def transition(raw: bytes | None) -> tuple[bytes | None, Turn]:
            pinned = await self._resume(raw)
            if pinned is None:
                flow = self.registry.current
                session, output = engine.start(flow, "sms", now=now, opening=reply)
                return _save(session), Turn(flow, output, session, fresh=True)
            flow, session = pinned
            session, output = engine.step(flow, session, reply, self.policy)
            return _save(session), Turn(flow, output, session)

        turn = await self.store.transition(key, self.sms_ttl, transition)
        await self.registry.keep_published(turn.flow)
        return turn

    async def call_started(self, call_sid: str) -> Turn:
        """A new call: the notice and the first prompt, replacing anything stored for the call."""
        key = conversation_key("v", call_sid)
        now = int(self.clock())

        async def transition(raw: bytes | None) -> tuple[bytes | None, Turn]:
            return self._start_call(call_sid, now)

        turn = await self.store.transition(key, self.voice_ttl, transition)
        await self.registry.keep_published(turn.flow)
        return turn

    async def call_reply(self, call_sid: str, token: str, reply: Reply) -> Turn:
        """Keys, speech or silence in answer to the prompt named by `token`.

        A token that does not name the current prompt is a replay or a late duplicate: the
        current prompt is given again and nothing advances.
        """
        key = conversation_key("v", call_sid)
        now = int(self.clock())

        async def transition(raw: bytes | None) -> tuple[bytes | None, Turn]:
            pinned = await self._resume(raw)
            if pinned is None:
                return self._start_call(call_sid, now)
            flow, session = pinned
            if token != self._token(call_sid, session):
                output = Output(
                    session.lang,
                    ask=session.node,
                    keys_only=session.confirm,
                    every_language=session.node == engine.LANGUAGE_MENU,
                )
                return raw, Turn(flow, output, session, self._token(call_sid, session))
            session, output = engine.step(flow, session, reply, self.policy)
            return _save(session), Turn(flow, output, session, self._token(call_sid, session))

        turn = await self.store.transition(key, self.voice_ttl, transition)
        await self.registry.keep_published(turn.flow)
        return turn

    async def call_ended(self, call_sid: str) -> None:
        await self.store.delete(conversation_key("v", call_sid))

    def _start_call(self, call_sid: str, now: int) -> tuple[bytes | None, Turn]:
        flow = self.registry.current
        session, output = engine.start(flow, "voice", now=now)
        return _save(session), Turn(flow, output, session, self._token(call_sid, session), fresh=True)

    def _token(self, call_sid: str, session: Session) -> str:
        return self.pseudonyms.step_token(call_sid, session.turns)

    async def _resume(self, raw: bytes | None) -> tuple[Flow, Session] | None:
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
        flow = await self.registry.pinned(session.flow, session.digest)
        if flow is None:
            log.warning(
                "the flow version of a conversation is gone; starting it again",
                extra={"flow": session.flow, "digest": session.digest},
            )
            return None
        return flow, session


def _save(session: Session) -> bytes | None:
    """Ended conversations are deleted: nothing about them outlives the reply."""
    return None if session.ended else encode(session)
