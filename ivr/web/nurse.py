"""The nurse's side of a handoff: the screening Twilio runs when the nurse's phone answers, and the
key they press to take the call (see ivr.channels.nurse for why a call is screened)."""

from __future__ import annotations

import logging

from fastapi import Response

from ivr.channels import nurse
from ivr.web.voice import STEP_TOKEN
from ivr.web.webhook import Hook, Webhooks, twiml

log = logging.getLogger("ivr.web")
webhook = Webhooks()

SCREEN_PATH = "/voice/screen"
ACCEPT_PATH = "/voice/screen/accept"


@webhook(SCREEN_PATH, gated=False)  # static TwiML: no turn to wait for
async def screen(hook: Hook) -> Response:
    """The nurse's phone answered: whoever answered (a person or a voicemail) hears the whisper and
    is asked to press 1. Static TwiML: nothing is read from or written to Redis here."""
    c, t = hook.components, hook.query("t")
    lang = c.registry.current.default_language
    if not STEP_TOKEN.fullmatch(t):
        c.metrics.nurse_screening.labels("invalid").inc()
        return twiml(nurse.hang_up())
    c.metrics.nurse_screening.labels("whispered").inc()
    accept_url = f"{c.replies.accept_url}?t={t}"
    return twiml(
        nurse.screening(c.voice_style, lang, accept_url=accept_url, whisper=c.settings.nurse_whisper)
    )


@webhook(ACCEPT_PATH, gated=True)
async def accept(hook: Hook) -> Response:
    """The nurse pressed a key during the whisper. 1 takes the call: it is marked as taken, for the
    <Dial> action to tell a nurse from a voicemail, and the two are connected when this TwiML ends.
    Should the mark fail to save, they are connected all the same: the caller reaches a person, and
    afterwards is only asked the question again."""
    c, t = hook.components, hook.query("t")
    lang = c.registry.current.default_language
    if hook.form.get("Digits") != nurse.ACCEPT_KEY or not STEP_TOKEN.fullmatch(t):
        c.metrics.nurse_screening.labels("declined").inc()
        return twiml(nurse.hang_up())
    c.metrics.nurse_screening.labels("taken").inc()
    connect = nurse.taken(c.voice_style, lang)

    async def mark() -> str:
        await c.triage.nurse_took(t)
        return connect

    return await hook.answer("voice_screen_accept", mark, connect)
