"""The Messaging webhook: each incoming text is one turn of an SMS triage."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ivr.channels import sms
from ivr.web.deps import Deps, Form, answer_safely

router = APIRouter()


@router.post("/sms")
async def incoming_text(form: Form, c: Deps) -> Response:
    our_number, sender = form.require("To", "From")
    body = form.get("Body")

    async def reply() -> str:
        turn = await c.triage.text(our_number, sender, body)
        return sms.render(turn.flow, turn.output)

    return await answer_safely(c, "sms", reply, c.sms_safety_net)
