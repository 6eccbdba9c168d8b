"""A Twilio webhook as a route: its verified form, its turn at the gate, and an answer that is
always valid TwiML (the safety net when anything fails)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from fastapi import BackgroundTasks, FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.types import ASGIApp, Receive, Scope, Send

from ivr.ops.logs import set_sids
from ivr.ops.metrics import Metrics
from ivr.store.errors import STORE_ERRORS, StoreContention, StoreUnavailable
from ivr.store.sessions import answering_by
from ivr.web.admission import AdmissionMiddleware
from ivr.web.components import Components
from ivr.web.twilio_form import TwilioForm, read_form

log = logging.getLogger("ivr.web")

TWIML_TYPE = "application/xml"


async def quietly(what: str, work: Awaitable[object], metrics: Metrics | None = None) -> None:
    """Run work after the response has gone; a failure is logged (and a store error counted),
    never raised into the server."""
    try:
        await work
    except Exception as exc:  # background work must not take the worker down with it
        if metrics is not None and isinstance(exc, (*STORE_ERRORS, StoreUnavailable)):
            metrics.redis_errors.inc()
        log.warning("background work failed", extra={"event": what, "error": type(exc).__name__})


async def verified_form(request: Request, c: Components) -> TwilioForm:
    """The request's Twilio form once its signature is checked; 403 (counted) when it is not."""
    try:
        form = await read_form(request, c.checker)
    except HTTPException as exc:
        if exc.status_code == 403:
            c.metrics.signature_rejections.labels(request.url.path).inc()
            log.warning(
                "webhook refused: bad signature", extra={"route": request.url.path, "reason": exc.detail}
            )
        raise
    set_sids(message_sid=form.get("MessageSid"), call_sid=form.get("CallSid"))
    return form


@dataclass(frozen=True, slots=True)
class Hook:
    """One verified Twilio webhook: the request, its form, the app's components, and work for later."""

    request: Request
    form: TwilioForm
    components: Components
    tasks: BackgroundTasks  # run after the reply has gone
    arrived: float  # time.monotonic() when the webhook arrived (before waiting its turn)
    busy: bool  # its turn did not come before its deadline: answer with the safety net

    def later(self, what: str, work: Awaitable[object]) -> None:
        """Run `work` after the reply has gone; a failure is logged, never raised."""
        self.tasks.add_task(quietly, what, work, self.components.metrics)

    def query(self, name: str) -> str:
        """A query parameter of the webhook's URL, or "" (the step token of a call's prompt)."""
        return self.request.query_params.get(name, "")

    def malformed(self, route: str, safety_net: str) -> Response:
        """The safety net for a signed webhook without the fields Twilio always sends, or with a SID
        of a form or prefix the line does not know. Not a 4xx: Twilio counts any 4xx as a failure of
        the webhook, and a caller would hear an application error. Nothing is read or written."""
        self.components.metrics.safety_nets.labels(route, "malformed").inc()
        self.components.metrics.responses.labels(route, "200").inc()
        log.warning("malformed webhook: the safety net, nothing done", extra={"route": route})
        return twiml(safety_net)

    def serves(self, our_number: str) -> bool:
        """Whether the number called or texted is one this deployment serves (TWILIO_NUMBERS)."""
        numbers = self.components.settings.twilio_numbers
        return not numbers or our_number in numbers

    def unserved(self, route: str, safety_net: str) -> Response:
        """The safety net for a signed webhook to a number of the account this deployment does not
        serve (another line's, or a number moved away): no triage starts; counted and logged."""
        self.components.metrics.safety_nets.labels(route, "unserved").inc()
        self.components.metrics.responses.labels(route, "200").inc()
        log.warning("webhook for a number this line does not serve: the safety net", extra={"route": route})
        return twiml(safety_net)

    async def answer(self, route: str, build: Callable[[], Awaitable[str]], safety_net: str) -> Response:
        """The TwiML `build` makes, once this webhook's turn comes, or else the safety net."""
        if self.busy:
            return answer_busy(self.components, route, safety_net, arrived=self.arrived)
        return await answer_safely(self.components, route, build, safety_net, arrived=self.arrived)


Handler = Callable[[Hook], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Webhook:
    """A declared Twilio webhook: its path, its endpoint, and whether it waits its turn at the
    admission gate (every webhook that reads or writes Redis does)."""

    path: str
    endpoint: Endpoint
    gated: bool


class Webhooks:
    """The webhooks a route module declares, each in one place: `@webhook(path, gated=...)`.

    The app mounts what is declared here (its route, its fast path, and the gate for the gated
    ones: see `mount`), so a new webhook cannot be routed yet skip the gate. Webhooks are the hot
    path (each text and each key press is one): resolving FastAPI dependencies for them cost about
    a quarter of the server's time per request (measured with pyinstrument, docs/speed.md), so they
    take the verified form directly; the operator routes keep FastAPI's dependencies.
    """

    def __init__(self) -> None:
        self._declared: dict[str, Webhook] = {}

    def __call__(self, path: str, *, gated: bool) -> Callable[[Handler], Handler]:
        """Declare the decorated handler as the webhook at `path`; `gated` must be said."""

        def declare(handler: Handler) -> Handler:
            if path in self._declared:
                raise ValueError(f"webhook {path} is declared twice")
            self._declared[path] = Webhook(path, _endpoint(handler), gated)
            return handler

        return declare

    def __iter__(self) -> Iterator[Webhook]:
        return iter(self._declared.values())


def _endpoint(handler: Handler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        arrived: float = getattr(request.state, "arrived", None) or time.monotonic()
        busy: bool = getattr(request.state, "busy", False)
        c: Components = request.app.state.components
        tasks = BackgroundTasks()
        # Read and checked before its turn (ivr.web.admission), or here for webhooks without one.
        form = request.scope.get("state", {}).get("form") or await verified_form(request, c)
        response = await handler(Hook(request, form, c, tasks, arrived, busy))
        if tasks.tasks:
            response.background = tasks
        return response

    return endpoint


def mount(app: FastAPI, webhooks: Iterable[Webhook], *, components: Components) -> None:
    """Route every declared webhook, give it the fast path, and put the gated ones behind the gate."""
    declared = list(webhooks)
    for hook in declared:
        app.add_route(hook.path, hook.endpoint, methods=["POST"], include_in_schema=False)
    settings, metrics = components.settings, components.metrics
    app.add_middleware(FastWebhooks, endpoints={hook.path: hook.endpoint for hook in declared})
    app.add_middleware(
        AdmissionMiddleware,
        admission=components.admission,
        budget=settings.webhook_budget,
        paths=frozenset(hook.path for hook in declared if hook.gated),
        verify=lambda request: verified_form(request, components),
        body_timeout=settings.webhook_body_timeout,
        refused=lambda route, reason: metrics.refused_before_turn.labels(route, reason).inc(),
    )


class FastWebhooks:
    """A webhook POST goes straight to its endpoint, past the framework's exception middleware,
    router and route wrappers (a fifth of a webhook's time, by profile, for work a webhook does
    not need); anything else, a webhook path with another method included, takes the usual way.
    An HTTPException is answered as FastAPI's own handler answers it; anything else propagates to
    the server-error middleware, as from a route."""

    def __init__(self, app: ASGIApp, *, endpoints: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except HTTPException as exc:
            response = await http_exception_handler(request, exc)
        await response(scope, receive, send)


def twiml(xml: str) -> Response:
    """A TwiML response."""
    return Response(content=xml, media_type=TWIML_TYPE)


def _left(arrived: float, limit: float) -> float:
    return max(0.0, arrived + limit - time.monotonic())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, (StoreUnavailable, *STORE_ERRORS)):
        return "redis"
    if isinstance(exc, StoreContention):
        return "contention"
    return "error"


def answer_busy(c: Components, route: str, safety_net: str, *, arrived: float) -> Response:
    """The safety net for a webhook whose turn did not come in time; nothing was read or written."""
    c.metrics.safety_nets.labels(route, "busy").inc()
    c.metrics.latency.labels(route).observe(time.monotonic() - arrived)
    c.metrics.responses.labels(route, "200").inc()
    log.warning("webhook answered with the safety net", extra={"route": route, "reason": "busy"})
    return twiml(safety_net)


async def answer_safely(
    c: Components,
    route: str,
    build: Callable[[], Awaitable[str]],
    safety_net: str,
    *,
    arrived: float | None = None,
) -> Response:
    """The TwiML `build` makes, or else the safety net: never a 5xx.

    Its turn has come (see ivr.web.admission); the turn runs to its end, bounded by the Redis
    timeouts, with `hard_limit` from the webhook's arrival as a backstop.
    Errors are logged by type and place only; an exception message can carry a caller's words.
    """
    arrived = time.monotonic() if arrived is None else arrived
    try:
        # Past the hard limit the safety net has gone out: no turn may be saved after it.
        with answering_by(arrived + c.settings.hard_limit):
            async with asyncio.timeout(_left(arrived, c.settings.hard_limit)):
                response = twiml(await build())
    except Exception as exc:
        reason = _reason(exc)
        if reason == "redis":
            c.metrics.redis_errors.inc()
        c.metrics.safety_nets.labels(route, reason).inc()
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
        level = logging.WARNING if reason == "redis" else logging.ERROR
        log.log(
            level,
            "webhook answered with the safety net",
            extra={"route": route, "reason": reason, "error": type(exc).__name__, "at": where},
        )
        response = twiml(safety_net)
    c.metrics.latency.labels(route).observe(time.monotonic() - arrived)
    c.metrics.responses.labels(route, "200").inc()
    return response
