"""The Voice webhooks: the incoming call, each gathered answer or silence, and the status callback."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response

from ivr.channels import voice
from ivr.engine import SILENCE, Reply
from ivr.service import Turn
from ivr.web.deps import Components, Deps, Form, answer_safely, twiml
from ivr.web.twilio_form import TwilioForm

router = APIRouter()

GATHER_PATH = "/voice/gather"
FINISHED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _render(c: Components, turn: Turn) -> str:
    action = c.url(f"{GATHER_PATH}?t={quote(turn.token)}")
    return voice.render(turn.flow, turn.output, action_url=action, style=c.voice_style)


def reply_from(form: TwilioForm) -> Reply:
    """Digits win over speech; neither means the gather timed out. A Confidence that is missing
    or not a number between 0 and 1 is treated as unknown (and so, low)."""
    if digits := form.get("Digits"):
        return Reply("keys", digits)
    if speech := form.get("SpeechResult").strip():
        try:
            confidence: float | None = float(form.get("Confidence"))
        except ValueError:
            confidence = None
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            confidence = None
        return Reply("speech", speech, confidence)
    return SILENCE


@router.post("/voice")
async def incoming_call(form: Form, c: Deps) -> Response:
    (call_sid,) = form.require("CallSid")

    async def reply() -> str:
        return _render(c, await c.triage.call_started(call_sid))

    return await answer_safely(c, "voice", reply, c.voice_safety_net)


@router.post(GATHER_PATH)
async def gathered(form: Form, c: Deps, t: str = "") -> Response:
    """A key press or spoken answer from the <Gather>, or the <Redirect> that follows a silence."""
    (call_sid,) = form.require("CallSid")
    answer = reply_from(form)

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
