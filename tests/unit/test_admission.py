"""The webhook gate: a few at work at once, the rest waiting in order until their deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from ivr.web.admission import Admission, Busy


async def test_webhooks_past_the_slots_wait_and_are_let_in_first_come_first_served() -> None:
    """With two slots, ten webhooks all get in, never more than two at once, in arrival order."""
    admission = Admission(2)
    inside = 0
    most = 0
    order: list[int] = []

    async def webhook(i: int) -> None:
        nonlocal inside, most
        async with admission.enter(until=time.monotonic() + 5):
            inside += 1
            most = max(most, inside)
            order.append(i)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(webhook(i) for i in range(10)))
    assert most == 2
    assert order == list(range(10))
    assert admission.waiting == 0


async def test_a_webhook_whose_deadline_passes_while_waiting_is_told_busy() -> None:
    """A full gate keeps a webhook waiting until its deadline and no longer; the slot it never got
    is not lost, and later webhooks still get in."""
    admission = Admission(1)
    release = asyncio.Event()

    async def hold() -> None:
        async with admission.enter(until=time.monotonic() + 5):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    began = time.monotonic()
    with pytest.raises(Busy):
        async with admission.enter(until=time.monotonic() + 0.1):
            pytest.fail("let in past a full gate")
    assert 0.08 < time.monotonic() - began < 1.0
    release.set()
    await holder
    async with admission.enter(until=time.monotonic()):
        assert admission.waiting == 0


async def test_a_free_slot_is_taken_even_at_the_deadline() -> None:
    """A deadline only limits waiting: with a slot free, a webhook at its deadline is still served."""
    admission = Admission(1)
    async with admission.enter(until=time.monotonic() - 1):
        pass
