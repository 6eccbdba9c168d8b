"""A process with more webhooks than it can take in time: the late ones get the safety net,
counted as busy (not as a Redis failure), and every conversation keeps its place."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import cast

import pytest
from fastapi import FastAPI, Response
from redis.asyncio import Redis
from starlette.routing import Route

from ivr.simulator.twilio_sim import TwilioSimulator
from ivr.web import nurse, sms, voice
from ivr.web.admission import AdmissionMiddleware
from ivr.web.app import create_app
from ivr.web.webhook import Hook, Webhooks, twiml
from tests.conftest import make_settings, serving_app
from tests.support import OUR_NUMBER, no_path, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each


@pytest.fixture
def app(redis: Redis) -> FastAPI:
    return create_app(make_settings(webhook_budget=0.3))


@pytest.fixture
async def twilio(app: FastAPI) -> AsyncIterator[TwilioSimulator]:
    async with serving_app(app) as simulator:
        yield simulator


async def _with_every_slot_taken(app: FastAPI) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    admission = app.state.components.admission
    release = asyncio.Event()

    async def occupy() -> None:
        async with admission.enter(until=time.monotonic() + 10):
            await release.wait()

    holders = [asyncio.create_task(occupy()) for _ in range(admission.slots)]
    await asyncio.sleep(0)
    return release, holders


async def test_a_late_text_gets_the_safety_net_and_the_next_one_carries_on(
    app: FastAPI, twilio: TwilioSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """While every slot is taken past the budget, an answer gets the safety net (busy) and is not
    recorded; afterwards the same answer moves the conversation on from the same question."""
    sender = "+15550900001"
    [first] = await twilio.text("hi", sender=sender, to=OUR_NUMBER)
    assert FLOW.questions[ORDER[0]].wording.text("en", voice=False) in first
    release, holders = await _with_every_slot_taken(app)
    with caplog.at_level(logging.WARNING, logger="ivr"):
        late = await twilio.text("no", sender=sender, to=OUR_NUMBER)
    release.set()
    await asyncio.gather(*holders)
    assert late[0].startswith("Call 911 now for any of these: trouble breathing")
    assert [r.__dict__.get("reason") for r in caplog.records if r.getMessage().startswith("webhook")] == [
        "busy"
    ]
    metrics = app.state.components.metrics.exposition().decode()
    assert 'ivr_safety_net_answers_total{reason="busy",route="sms"} 1.0' in metrics
    assert "ivr_redis_errors_total 0.0" in metrics
    [second] = await twilio.text("no", sender=sender, to=OUR_NUMBER)
    assert second.startswith(FLOW.questions[ORDER[1]].wording.text("en", voice=False))


async def test_a_late_key_press_on_a_call_leaves_the_call_on_its_question(
    app: FastAPI, twilio: TwilioSimulator
) -> None:
    """A caller's key press that cannot be taken in time gets the spoken safety net; the call's
    stored place is unchanged, so the same prompt's key press afterwards is taken normally."""
    call = twilio.call(caller="+15550900002", to=OUR_NUMBER)
    asked = await call.start()
    release, holders = await _with_every_slot_taken(app)
    late = await call.press("2", prompt=asked)
    release.set()
    await asyncio.gather(*holders)
    assert late.says[0].startswith("Call 911 now for any of these: trouble breathing")
    again = await call.press("2", prompt=asked)
    assert again.says[0].startswith(FLOW.questions[ORDER[1]].wording.text("en", voice=True))


def test_every_webhook_is_declared_in_one_place_and_the_gate_covers_the_gated(app: FastAPI) -> None:
    """The app's own routes are exactly the declared webhooks (the fallbacks, probes and local page
    come in routers of their own), and its gate takes every webhook declared gated: a webhook cannot
    be routed and skip the gate by being left out of a list. The two that do not wait answer
    without Redis."""
    declared = [*sms.webhook, *voice.webhook, *nurse.webhook]
    posted = {r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}
    assert posted == {w.path for w in declared}
    [gate] = [m for m in app.user_middleware if cast(object, m.cls) is AdmissionMiddleware]
    assert gate.kwargs["paths"] == {w.path for w in declared if w.gated}
    assert {w.path for w in declared if not w.gated} == {nurse.SCREEN_PATH, sms.SMS_STATUS_PATH}


def test_a_webhook_is_declared_once() -> None:
    """Two handlers for one path are refused when the module is read, not found in production."""
    webhook = Webhooks()

    @webhook("/x", gated=True)
    async def first(hook: Hook) -> Response:
        return twiml("")

    with pytest.raises(ValueError, match="declared twice"):

        @webhook("/x", gated=False)
        async def second(hook: Hook) -> Response:
            return twiml("")

    assert [(w.path, w.gated) for w in webhook] == [("/x", True)]
