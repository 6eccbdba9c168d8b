"""How many webhooks one process works on at once, and how long the others may wait their turn.

Without a limit every request in a busy process is worked on at the same time: each advances one
step per turn of the event loop, so all of them slow down together, past any deadline. Past the
gate, a few are worked on and finish quickly; the rest wait here, first come first served, where
waiting costs nothing and its length can be seen. One that has waited out its deadline gets the
safety net before anything is read from or written to Redis, so the conversation keeps its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Receive, Scope, Send


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
    """Webhooks wait their turn before anything is done for them, even reading their form: work
    started on every request at once is the slowdown this gate exists to prevent.

    A webhook whose deadline passes in the queue is still handed to its route, marked busy in
    `scope["state"]`: the route checks its signature as always and answers with the safety net,
    touching nothing else. The arrival time is left there too, for the route's own limits.
    """

    def __init__(self, app: ASGIApp, *, admission: Admission, budget: float, paths: frozenset[str]) -> None:
        self.app = app
        self.admission = admission
        self.budget = budget
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        state = scope.setdefault("state", {})
        state["arrived"] = arrived
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
