"""The Messaging webhook: each incoming text is one turn of an SMS triage."""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from ivr.web.webhook import Hook, webhook

router = APIRouter()

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


@webhook(router, "/sms")
async def incoming_text(hook: Hook) -> Response:
    c = hook.components
    our_number, sender, message_sid = (hook.form.get(name) for name in ("To", "From", "MessageSid"))
    if not (our_number and sender and MESSAGE_SID.fullmatch(message_sid)):
        return hook.malformed("sms", c.sms_safety_net)
    body = hook.form.get("Body")

    async def reply() -> str:
        turn = await c.triage.text(
            our_number, sender, body, message_sid, opt_out_type=hook.form.get("OptOutType")
        )
        c.observer.observe(turn, "sms", caller=sender, later=hook.later)
        return c.replies.sms(turn.flow, turn.output)

    return await hook.answer("sms", reply, c.sms_safety_net)
