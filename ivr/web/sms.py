"""The Messaging webhooks: each incoming text is one turn of an SMS triage; the status of follow-up
texts is counted."""

from __future__ import annotations

import re

from fastapi import Response

from ivr.channels import sms as sms_channel
from ivr.web.webhook import Hook, Webhooks, twiml

webhook = Webhooks()

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
SMS_STATUS_PATH = "/sms/status"
# A message's last statuses (Twilio's outbound message status values); the others are on the way.
FINAL = frozenset({"delivered", "undelivered", "failed"})
DELIVERY_ERROR = re.compile(r"3\d{4}")  # Twilio's message delivery errors are 30xxx


@webhook("/sms", gated=True)
async def incoming_text(hook: Hook) -> Response:
    """An incoming text: one turn of the conversation with its sender."""
    c = hook.components
    our_number, sender, message_sid = (hook.form.get(name) for name in ("To", "From", "MessageSid"))
    if not (our_number and sender and MESSAGE_SID.fullmatch(message_sid)):
        return hook.malformed("sms", c.sms_safety_net)
    if not hook.serves(our_number):
        return hook.unserved("sms", c.sms_safety_net)
    body = hook.form.get("Body")

    async def reply() -> str:
        turn = await c.triage.text(
            our_number, sender, body, message_sid, opt_out_type=hook.form.get("OptOutType")
        )
        c.observer.after(turn, "sms", caller=sender, later=hook.later)
        return c.replies.sms(turn.flow, turn.output)

    return await hook.answer("sms", reply, c.sms_safety_net)


@webhook(SMS_STATUS_PATH, gated=False)  # counted, nothing read or stored
async def follow_up_status(hook: Hook) -> Response:
    """Twilio's status callback for a follow-up text: final statuses are counted, with the delivery
    error when there is one (30006: a landline, or a carrier that cannot be reached; 30003: the phone
    is unreachable). Nothing is stored; the answer is empty."""
    status, error = hook.form.get("MessageStatus"), hook.form.get("ErrorCode")
    if status in FINAL:
        code = error if DELIVERY_ERROR.fullmatch(error) else ("other" if error else "")
        hook.components.metrics.followup_delivery.labels(status, code).inc()
    return twiml(sms_channel.twiml([]))
