"""The circuit breaker: open after a failure, one probe at a time after the cool-off, closed on success."""

from __future__ import annotations

import pytest

from ivr.store.breaker import CircuitBreaker
from ivr.store.errors import StoreUnavailable


def _breaker() -> tuple[CircuitBreaker, list[float]]:
    now = [100.0]
    return CircuitBreaker(cool_off=1.0, clock=lambda: now[0]), now


def test_a_closed_breaker_lets_every_call_through() -> None:
    """Before any failure nothing is refused, however many calls are in flight."""
    breaker, _ = _breaker()
    for _ in range(3):
        breaker.check()
    assert breaker.closed


def test_after_a_failure_calls_are_refused_until_the_cool_off_ends() -> None:
    """During the cool-off every call is refused without touching Redis."""
    breaker, now = _breaker()
    breaker.failed()
    with pytest.raises(StoreUnavailable):
        breaker.check()
    now[0] += 0.9
    with pytest.raises(StoreUnavailable):
        breaker.check()


def test_after_the_cool_off_one_probe_goes_through_and_the_rest_wait_for_it() -> None:
    """One call tries Redis; while it is out the others are refused at once; its success closes
    the breaker for everyone."""
    breaker, now = _breaker()
    breaker.failed()
    now[0] += 1.1
    breaker.check()  # the probe
    with pytest.raises(StoreUnavailable, match="being tried"):
        breaker.check()
    breaker.succeeded()
    breaker.check()
    breaker.check()
    assert breaker.closed


def test_a_failed_probe_starts_a_new_cool_off() -> None:
    """The probe failing keeps the breaker open for another cool-off."""
    breaker, now = _breaker()
    breaker.failed()
    now[0] += 1.1
    breaker.check()
    breaker.failed()
    with pytest.raises(StoreUnavailable, match="moments ago"):
        breaker.check()


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    """A probe cancelled before it could tell (its request timed out) does not leave the breaker
    stuck open: the next call becomes the probe."""
    breaker, now = _breaker()
    breaker.failed()
    now[0] += 1.1
    breaker.check()
    breaker.abandoned()
    breaker.check()
    assert not breaker.closed


def test_each_opening_is_announced_once_per_outage() -> None:
    """Going from closed to open calls the listeners once; failed probes during the same outage do
    not; after a success, the next failure is a new opening."""
    breaker, now = _breaker()
    openings: list[float] = []
    breaker.on_open(lambda: openings.append(round(now[0], 1)))
    breaker.failed()
    now[0] += 1.1
    breaker.check()
    breaker.failed()
    assert openings == [100.0]
    now[0] += 1.1
    breaker.check()
    breaker.succeeded()
    breaker.failed()
    assert openings == [100.0, 102.2]
