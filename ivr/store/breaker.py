"""The circuit breaker: after Redis fails, answer at once for a while instead of waiting on it."""

from __future__ import annotations

import time
from collections.abc import Callable

from ivr.store.errors import StoreUnavailable


class CircuitBreaker:
    """After Redis fails, skip it for a short while: callers get the safety net at once instead of
    each waiting out a timeout, and Redis is not hammered while it recovers.

    When the cool-off ends, one call at a time tries Redis (the probe) while the others still get
    the safety net at once; the first success closes the breaker for everyone.
    """

    def __init__(self, cool_off: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cool_off = cool_off
        self.clock = clock
        self._failed_at = float("-inf")
        self._probing = False
        self._on_open: list[Callable[[], None]] = []

    @property
    def closed(self) -> bool:
        """Whether calls go to Redis as usual (no recent failure)."""
        return self._failed_at == float("-inf")

    def check(self) -> None:
        """Raise StoreUnavailable unless this call may go to Redis."""
        if self.closed:
            return
        if self.clock() - self._failed_at < self.cool_off:
            raise StoreUnavailable("Redis failed moments ago")
        if self._probing:
            raise StoreUnavailable("Redis is being tried again")
        self._probing = True

    def on_open(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the breaker goes from closed to open (the metrics count it)."""
        self._on_open.append(callback)

    def failed(self) -> None:
        """Redis failed: refuse calls for the cool-off."""
        if self.closed:
            for callback in self._on_open:
                callback()
        self._failed_at = self.clock()
        self._probing = False

    def succeeded(self) -> None:
        """Redis answered: close the breaker."""
        self._failed_at = float("-inf")
        self._probing = False

    def abandoned(self) -> None:
        """The call ended without telling (cancelled): let the next one probe."""
        self._probing = False
