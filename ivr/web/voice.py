"""The Voice webhooks: the call, each answer or silence, the status callback, and the fallback."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from fastapi import Response

from ivr.application.service import Turn
from ivr.channels import voice
from ivr.core.engine import SILENCE, Input
from ivr.store.errors import StoreUnavailable
from ivr.web.components import Components
from ivr.web.twilio_form import TwilioForm
from ivr.web.webhook import Hook, Webhooks, twiml

log = logging.getLogger("ivr.web")
webhook = Webhooks()

GATHER_PATH = "/voice/gather"
FOLLOWUP_PATH = "/voice/followup"
HANDOFF_PATH = "/voice/handoff"
STATUS_PATH = "/voice/status"
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
STEP_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what Pseudonyms.step_token makes
FINISHED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _call_sid(form: TwilioForm) -> str | None:
    call_sid = form.get("CallSid")
    return call_sid if CALL_SID.fullmatch(call_sid) else None


def _render(c: Components, turn: Turn) -> str:
    return c.replies.voice(turn.flow, turn.output, quote(turn.token))


def input_from(form: TwilioForm) -> Input:
    """Digits win over speech; neither means the gather timed out. A Confidence that is missing
    or not a number between 0 and 1 is treated as unknown (and so, low)."""
    if digits := form.get("Digits"):
        return Input("keys", digits)
    if speech := form.get("SpeechResult").strip():
        try:
            confidence: float | None = float(form.get("Confidence"))
        except ValueError:
            confidence = None
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            confidence = None
        return Input("speech", speech, confidence)
    return SILENCE


@webhook("/voice", gated=True)
async def incoming_call(hook: Hook) -> Response:
    """A call comes in: the 911 notice and the first prompt."""
    c, form, later = hook.components, hook.form, hook.later
    if (call_sid := _call_sid(form)) is None:
        return hook.malformed("voice", c.voice_safety_net)
    if not hook.serves(form.get("To")):
        return hook.unserved("voice", c.voice_safety_net)

    async def reply() -> str:
        turn = await c.triage.call_started(call_sid)
        c.observer.after(turn, "voice", caller=form.get("From"), later=later)
        return _render(c, turn)

    return await hook.answer("voice", reply, c.voice_safety_net)


@webhook(GATHER_PATH, gated=True)
async def gathered(hook: Hook) -> Response:
    """A key press or spoken answer from the <Gather>, or the <Redirect> that follows a silence."""
    c, form, later, t = hook.components, hook.form, hook.later, hook.query("t")
    if (call_sid := _call_sid(form)) is None:
        return hook.malformed("voice_gather", c.voice_safety_net)
    answer = input_from(form)
    caller = form.get("From")

    async def reply() -> str:
        turn = await c.triage.call_input(call_sid, t, answer)
        c.observer.after(turn, "voice", caller=caller, later=later)
        if c.replies.offers_followup(turn.flow, turn.output):
            await _keep_offer(c, turn)
        return _render(c, turn)

    return await hook.answer("voice_gather", reply, c.voice_safety_net)


async def _keep_offer(c: Components, turn: Turn) -> None:
    """Keep the outcome a call offers by text before the reply goes, so that the key answering the
    offer always finds it. If Redis fails here the caller still gets the outcome (the turn is saved):
    the offer is said, and a 1 then sends nothing, which is logged and counted."""
    try:
        await c.triage.offer_followup(turn.token, turn.flow, turn.output)
    except (StoreUnavailable, TimeoutError, OSError) as exc:
        c.metrics.followups.labels("offer_lost").inc()
        log.warning("follow-up offer not kept", extra={"error": type(exc).__name__})
        return
    c.metrics.followups.labels("offered").inc()


@webhook(FOLLOWUP_PATH, gated=True)
async def follow_up_asked(hook: Hook) -> Response:
    """A key pressed at an outcome's offer of its advice by text. 1 asks for it: the consent is
    recorded and the text sent to the number Twilio says is calling (never stored), once; any other
    key, a repeat, or a press after the offer lapsed sends nothing. The call ends either way."""
    c, form, later, t = hook.components, hook.form, hook.later, hook.query("t")
    if _call_sid(form) is None or not STEP_TOKEN.fullmatch(t):
        return hook.malformed("voice_followup", voice.hang_up())
    if form.get("Digits") != voice.FOLLOWUP_KEY:
        return twiml(voice.hang_up())
    caller, our_number = form.get("From"), form.get("To")

    async def reply() -> str:
        offered = await c.triage.take_followup(t)
        if offered is None:
            return voice.hang_up()
        flow, output = offered
        c.observer.follow_up(
            flow, output, caller=caller, our_number=our_number, offer=voice.FOLLOWUP_OFFER, later=later
        )
        return voice.followup_taken(flow, output.lang, c.voice_style)

    return await hook.answer("voice_followup", reply, voice.hang_up())


@webhook(HANDOFF_PATH, gated=True)
async def handed_back(hook: Hook) -> Response:
    """The <Dial> to the nurse ended: taken by the nurse, the call ends; not answered, or answered by
    a machine or by no one who pressed the key, back to the questions."""
    c, form, later, t = hook.components, hook.form, hook.later, hook.query("t")
    if (call_sid := _call_sid(form)) is None or not STEP_TOKEN.fullmatch(t):
        return hook.malformed("voice_handoff", c.voice_safety_net)
    dial_status = form.get("DialCallStatus")

    async def reply() -> str:
        turn = await c.triage.call_handed_back(call_sid, t, dial_status)
        c.observer.after(turn, "voice", caller=form.get("From"), later=later)
        return _render(c, turn)

    return await hook.answer("voice_handoff", reply, c.voice_safety_net)


@webhook(STATUS_PATH, gated=True)
async def call_status(hook: Hook) -> Response:
    """A finished call is forgotten at once. Callbacks may come out of order or twice: only a final
    status acts, and the second one finds nothing left to count."""
    c, form, later = hook.components, hook.form, hook.later
    status = form.get("CallStatus")
    if (call_sid := _call_sid(form)) is None or not status:
        return hook.malformed("voice_status", voice.empty())
    if status not in FINISHED:
        return twiml(voice.empty())

    async def forget() -> str:
        end = await c.triage.call_ended(call_sid)
        if end.abandoned:
            log.info("call ended before an outcome", extra={"status": status})
            flow = await c.registry.pinned(end.session.flow, end.session.digest) if end.session else None
            c.observer.abandoned(flow, end.session, caller=form.get("From"), later=later)
        return voice.empty()

    return await hook.answer("voice_status", forget, voice.empty())
