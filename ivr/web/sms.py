"""The Messaging webhooks: each incoming text is one turn of an SMS triage; the fallback needs nothing."""

from __future__ import annotations

import re

from fastapi import APIRouter, BackgroundTasks, HTTPException, Response

from ivr.channels import sms
from ivr.web.deps import Deps, Form, answer_safely, twiml

router = APIRouter()

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


@router.post("/sms")
async def incoming_text(form: Form, c: Deps, later: BackgroundTasks) -> Response:
    our_number, sender, message_sid = form.require("To", "From", "MessageSid")
    if not MESSAGE_SID.fullmatch(message_sid):
        raise HTTPException(400, "malformed MessageSid")
    body = form.get("Body")

    async def reply() -> str:
        turn = await c.triage.text(our_number, sender, body, message_sid)
        c.observe(turn, "sms", caller=sender, later=later)
        return sms.render(turn.flow, turn.output, nurse=c.voice_style.nurse_number is not None)

    return await answer_safely(c, "sms", reply, c.sms_safety_net)


@router.post("/sms/fallback")
async def text_fallback(form: Form, c: Deps) -> Response:
    """Twilio's Fallback URL for messaging: the static safety net, without touching Redis."""
    c.metrics.safety_nets.labels("sms_fallback", "fallback").inc()
    return twiml(c.sms_safety_net)
