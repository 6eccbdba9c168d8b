"""The Messaging webhooks: each incoming text is one turn of an SMS triage; the fallback needs nothing."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Response

from ivr.web.webhook import Hook, twiml, webhook

router = APIRouter()

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


@webhook(router, "/sms")
async def incoming_text(hook: Hook) -> Response:
    c = hook.components
    our_number, sender, message_sid = hook.form.require("To", "From", "MessageSid")
    if not MESSAGE_SID.fullmatch(message_sid):
        raise HTTPException(400, "malformed MessageSid")
    body = hook.form.get("Body")

    async def reply() -> str:
        turn = await c.triage.text(
            our_number, sender, body, message_sid, opt_out_type=hook.form.get("OptOutType")
        )
        c.observer.observe(turn, "sms", caller=sender, later=hook.later)
        return c.replies.sms(turn.flow, turn.output)

    return await hook.answer("sms", reply, c.sms_safety_net)


@webhook(router, "/sms/fallback")
async def text_fallback(hook: Hook) -> Response:
    """Twilio's Fallback URL for messaging: the static safety net, without touching Redis."""
    hook.components.metrics.safety_nets.labels("sms_fallback", "fallback").inc()
    return twiml(hook.components.sms_safety_net)
