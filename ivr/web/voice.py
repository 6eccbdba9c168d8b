"""The Voice webhooks: the incoming call, each gathered answer or silence, and the status callback."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response

from ivr.channels import voice
from ivr.engine import SILENCE, Reply
from ivr.service import Turn
from ivr.web.deps import Components, Deps, Form, answer_safely, twiml

router = APIRouter()

GATHER_PATH = "/voice/gather"
FINISHED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _render(c: Components, turn: Turn) -> str:
    action = c.url(f"{GATHER_PATH}?t={quote(turn.token)}")
    return voice.render(turn.flow, turn.output, action_url=action, style=c.voice_style)


@router.post("/voice")
async def incoming_call(form: Form, c: Deps) -> Response:
    (call_sid,) = form.require("CallSid")

    async def reply() -> str:
        return _render(c, await c.triage.call_started(call_sid))

    return await answer_safely(c, "voice", reply, c.voice_safety_net)


@router.post(GATHER_PATH)
async def gathered(form: Form, c: Deps, t: str = "") -> Response:
    """A key press from the <Gather>, or (no Digits) the <Redirect> that follows a silence."""
    (call_sid,) = form.require("CallSid")
    digits = form.get("Digits")
    answer = Reply("keys", digits) if digits else SILENCE

    async def reply() -> str:
        return _render(c, await c.triage.call_reply(call_sid, t, answer))

    return await answer_safely(c, "voice_gather", reply, c.voice_safety_net)


@router.post("/voice/status")
async def call_status(form: Form, c: Deps) -> Response:
    """A finished call's session is removed at once rather than left to expire."""
    call_sid, status = form.require("CallSid", "CallStatus")
    if status in FINISHED:

        async def forget() -> str:
            await c.triage.call_ended(call_sid)
            return voice.empty()

        return await answer_safely(c, "voice_status", forget, voice.empty())
    return twiml(voice.empty())
