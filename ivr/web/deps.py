"""What the routes are given: the app's components, and the verified Twilio form, as dependencies."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from redis.exceptions import RedisError

from ivr.channels.voice import VoiceStyle
from ivr.config import Settings
from ivr.flow import Flow
from ivr.metrics import Metrics
from ivr.registry import FlowRegistry
from ivr.security import SignatureChecker
from ivr.service import Triage, Turn
from ivr.store import SessionStore, StoreContention, StoreUnavailable
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
    metrics: Metrics
    sms_safety_net: str
    voice_safety_net: str

    def url(self, path: str) -> str:
        """An absolute URL when the public base is known; else a path Twilio resolves itself."""
        return (self.settings.public_base_url or "") + path

    def observe(self, turn: Turn, channel: str) -> None:
        """Count what a turn did. Labels are channel, language and outcome kind: nothing personal."""
        m = self.metrics
        if turn.replayed:
            m.replays.labels(channel).inc()
            return
        if turn.fresh:
            m.started.labels(channel, turn.output.lang).inc()
        if turn.output.outcome is not None:
            kind = turn.flow.outcomes[turn.output.outcome].kind
            m.outcomes.labels(channel, turn.output.lang, kind).inc()
        counters = {
            "opted_out": m.opt_outs,
            "opted_in": m.opt_ins,
            "rate_limited": m.rate_limited,
            "help": m.help,
        }
        if turn.event in counters:
            counters[turn.event].inc()

    @property
    def flow(self) -> Flow:
        return self.registry.current


def components(request: Request) -> Components:
    found: Components = request.app.state.components
    return found


async def twilio_form(request: Request, c: Annotated[Components, Depends(components)]) -> TwilioForm:
    try:
        return await read_form(request, c.checker)
    except HTTPException as exc:
        if exc.status_code == 403:
            c.metrics.signature_rejections.labels(request.url.path).inc()
            log.warning("webhook refused: bad signature", extra={"route": request.url.path})
        raise


Deps = Annotated[Components, Depends(components)]
Form = Annotated[TwilioForm, Depends(twilio_form)]


def twiml(xml: str) -> Response:
    return Response(content=xml, media_type=TWIML_TYPE)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, StoreUnavailable | RedisError | ConnectionError | OSError):
        return "redis"
    if isinstance(exc, StoreContention):
        return "contention"
    return "error"


async def answer_safely(
    c: Components, route: str, build: Callable[[], Awaitable[str]], safety_net: str
) -> Response:
    """The TwiML `build` makes within the webhook budget, or else the safety net: never a 5xx.

    Errors are logged by type and place only; an exception message can carry a caller's words.
    """
    began = time.perf_counter()
    try:
        async with asyncio.timeout(c.settings.webhook_budget):
            response = twiml(await build())
    except Exception as exc:
        reason = _reason(exc)
        if reason in ("redis", "timeout"):
            c.metrics.redis_errors.inc()
        c.metrics.safety_nets.labels(route, reason).inc()
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
        level = logging.WARNING if reason in ("redis", "timeout") else logging.ERROR
        log.log(
            level,
            "webhook answered with the safety net",
            extra={"route": route, "reason": reason, "error": type(exc).__name__, "at": where},
        )
        response = twiml(safety_net)
    c.metrics.latency.labels(route).observe(time.perf_counter() - began)
    c.metrics.responses.labels(route, "200").inc()
    return response
