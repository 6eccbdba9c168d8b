"""The Voice webhooks: the call, each answer or silence, the status callback, and the fallback."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Response

from ivr.channels import voice
from ivr.engine import SILENCE, Reply
from ivr.service import Turn
from ivr.web.deps import Components, Deps, Form, answer_safely, twiml
from ivr.web.twilio_form import TwilioForm

log = logging.getLogger("ivr.web")
router = APIRouter()

GATHER_PATH = "/voice/gather"
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
FINISHED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _call_sid(form: TwilioForm) -> str:
    (call_sid,) = form.require("CallSid")
    if not CALL_SID.fullmatch(call_sid):
        raise HTTPException(400, "malformed CallSid")
    return call_sid


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
    call_sid = _call_sid(form)

    async def reply() -> str:
        turn = await c.triage.call_started(call_sid)
        c.observe(turn, "voice")
        return _render(c, turn)

    return await answer_safely(c, "voice", reply, c.voice_safety_net)


@router.post(GATHER_PATH)
async def gathered(form: Form, c: Deps, t: str = "") -> Response:
    """A key press or spoken answer from the <Gather>, or the <Redirect> that follows a silence."""
    call_sid = _call_sid(form)
    answer = reply_from(form)

    async def reply() -> str:
        turn = await c.triage.call_reply(call_sid, t, answer)
        c.observe(turn, "voice")
        return _render(c, turn)

    return await answer_safely(c, "voice_gather", reply, c.voice_safety_net)


@router.post("/voice/status")
async def call_status(form: Form, c: Deps) -> Response:
    """A finished call is forgotten at once. Callbacks may come out of order or twice: only a final
    status acts, and the second one finds nothing left to count."""
    call_sid = _call_sid(form)
    (status,) = form.require("CallStatus")
    if status not in FINISHED:
        return twiml(voice.empty())

    async def forget() -> str:
        end = await c.triage.call_ended(call_sid)
        if end.abandoned:
            c.metrics.abandoned.inc()
            log.info("call ended before an outcome", extra={"call_sid": call_sid, "status": status})
        return voice.empty()

    return await answer_safely(c, "voice_status", forget, voice.empty())


@router.post("/voice/fallback")
async def call_fallback(form: Form, c: Deps) -> Response:
    """Twilio's Fallback URL for voice: the spoken safety net, without touching Redis."""
    c.metrics.safety_nets.labels("voice_fallback", "fallback").inc()
    return twiml(c.voice_safety_net)
