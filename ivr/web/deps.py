"""What the routes are given: the app's components, and the verified Twilio form, as dependencies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from ivr.channels.voice import VoiceStyle
from ivr.config import Settings
from ivr.registry import FlowRegistry
from ivr.security import SignatureChecker
from ivr.service import Triage
from ivr.store import SessionStore
from ivr.web.twilio_form import TwilioForm, read_form

log = logging.getLogger("ivr.web")

TWIML_TYPE = "application/xml"


@dataclass(frozen=True, slots=True)
class Components:
    """Everything a request needs, built once by create_app."""

    settings: Settings
    registry: FlowRegistry
    triage: Triage
    store: SessionStore
    checker: SignatureChecker
    voice_style: VoiceStyle
    sms_safety_net: str
    voice_safety_net: str

    def url(self, path: str) -> str:
        """An absolute URL when the public base is known; else a path Twilio resolves itself."""
        return (self.settings.public_base_url or "") + path


def components(request: Request) -> Components:
    found: Components = request.app.state.components
    return found


async def twilio_form(request: Request, c: Annotated[Components, Depends(components)]) -> TwilioForm:
    return await read_form(request, c.checker)


Deps = Annotated[Components, Depends(components)]
Form = Annotated[TwilioForm, Depends(twilio_form)]


def twiml(xml: str) -> Response:
    return Response(content=xml, media_type=TWIML_TYPE)


async def answer_safely(
    c: Components, route: str, build: Callable[[], Awaitable[str]], safety_net: str
) -> Response:
    """The TwiML `build` makes within the webhook budget, or else the safety net: never a 5xx.

    Errors are logged by type and place only; an exception message can carry a caller's words.
    """
    try:
        async with asyncio.timeout(c.settings.webhook_budget):
            return twiml(await build())
    except Exception as exc:
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
        log.error(
            "webhook failed, answered with the safety net",
            extra={"route": route, "error": type(exc).__name__, "at": where},
        )
        return twiml(safety_net)
