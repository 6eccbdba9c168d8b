"""How many webhooks one process works on at once, how long the others may wait their turn, and
what a webhook must show before it waits: its whole body, signed, within a few seconds.

Without a limit every request in a busy process is worked on at the same time: each advances one
step per turn of the event loop, so all of them slow down together, past any deadline. Past the
gate, a few are worked on and finish quickly; the rest wait here, first come first served, where
waiting costs nothing and its length can be seen. One that has waited out its deadline gets the
safety net before anything is read from or written to Redis, so the conversation keeps its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("ivr.web")

# Reads a webhook's body and checks its signature: the verified form, or the HTTPException that
# refuses it (counted and logged there).
Verify = Callable[[Request], Awaitable[object]]
# Counts a webhook refused before its turn: its path and why (slow_body, bad_signature, bad_request).
Refused = Callable[[str, str], None]


class Busy(RuntimeError):
    """The webhook's deadline passed while it waited its turn; nothing was done for it."""


class Admission:
    """At most `slots` webhooks of this process worked on at once; the others wait, in order."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = asyncio.Semaphore(slots)
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def enter(self, until: float) -> AsyncIterator[None]:
        """Wait for a slot until `until` (time.monotonic()); Busy if the wait would be longer."""
        if self._free.locked():
            self.waiting += 1
            try:
                async with asyncio.timeout(max(0.0, until - time.monotonic())):
                    await self._free.acquire()
            except TimeoutError:
                raise Busy("the webhook waited past its deadline") from None
            finally:
                self.waiting -= 1
        else:
            await self._free.acquire()
        try:
            yield
        finally:
            self._free.release()


class AdmissionMiddleware:
    """Webhooks wait their turn before anything is done for them, but only once their body is in
    and signed: work started on every request at once is the slowdown this gate exists to prevent,
    and a slot held by a client that sends its body slowly, or one Twilio never signed, would be a
    slot taken from a person. So the body is read first, within `body_timeout`, and its signature
    checked; a slow body is answered 408 and an unsigned one 403, each counted and logged, without
    ever taking a slot. The verified form is left in `scope["state"]` for the route.

    A webhook whose deadline passes in the queue is still handed to its route, marked busy in
    `scope["state"]`: the route answers with the safety net, touching nothing else. The arrival
    time is left there too, for the route's own limits.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        admission: Admission,
        budget: float,
        paths: frozenset[str],
        verify: Verify,
        body_timeout: float,
        refused: Refused,
    ) -> None:
        self.app = app
        self.admission = admission
        self.budget = budget
        self.paths = paths
        self.verify = verify
        self.body_timeout = body_timeout
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        state = scope.setdefault("state", {})
        state["arrived"] = arrived
        path = scope["path"]
        try:
            async with asyncio.timeout(self.body_timeout):
                state["form"] = await self.verify(Request(scope, receive))
        except TimeoutError:
            self.refused(path, "slow_body")
            log.warning("webhook refused before its turn: the body was too slow", extra={"route": path})
            await JSONResponse({"detail": "the body did not arrive in time"}, 408)(scope, receive, send)
            return
        except HTTPException as exc:
            self.refused(path, "bad_signature" if exc.status_code == 403 else "bad_request")
            await JSONResponse({"detail": exc.detail}, exc.status_code)(scope, receive, send)
            return
        admitted = False
        try:
            async with self.admission.enter(until=arrived + self.budget):
                admitted = True
                await self.app(scope, receive, send)
        except Busy:
            if admitted:
                raise  # not the gate's: let the app's own error handling have it
        if not admitted:
            state["busy"] = True
            await self.app(scope, receive, send)
