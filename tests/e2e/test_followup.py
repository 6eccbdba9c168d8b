"""The follow-up text after a call, against a local stand-in for Twilio's REST API."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from ivr.bench.harness import free_port
from ivr.twilio_sim import FORM_HEADERS, TwilioSimulator, new_sid
from ivr.web import create_app
from tests.conftest import make_settings, serving
from tests.standins import TwilioApiStandIn
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, shipped_flow

ACCOUNT = "AC" + "0123456789abcdef" * 2
CALLER = "+15550901234"


@pytest.fixture
def standin() -> Iterator[TwilioApiStandIn]:
    api = TwilioApiStandIn()
    yield api
    api.close()


def _settings(standin: TwilioApiStandIn, **more: object) -> dict[str, object]:
    return {"followup_sms": True, "twilio_account_sid": ACCOUNT, "twilio_api_base_url": standin.url, **more}


async def _reach_emergency(twilio: TwilioSimulator) -> None:
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.press("2")
    await call.press("1")


async def test_a_caller_who_reached_an_outcome_gets_the_advice_by_text(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """From our number to the caller, through the REST API with our account: the outcome's messages."""
    async with serving(make_settings(**_settings(standin, booking_url="https://book.example.org"))) as twilio:
        await _reach_emergency(twilio)
        call = twilio.call(caller="+15550905555", to=OUR_NUMBER)
        await call.start()
        await call.press("9")
        for _ in range(len(shipped_flow().questions)):
            await call.press("2")
        metrics = (await twilio.client.get("/metrics")).text
    requests = standin.wait_for(3)
    assert [r.path for r in requests] == [f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"] * 3
    assert all(r.account == ACCOUNT for r in requests)
    emergency, appointment_1, appointment_2 = (r.form for r in requests)
    assert (emergency["To"], emergency["From"]) == (CALLER, OUR_NUMBER)
    assert emergency["Body"].startswith("Call 911 now.")  # English was chosen at the menu
    assert appointment_1["To"] == "+15550905555"  # this caller chose Spanish
    assert appointment_1["Body"].startswith("Pida una cita")
    assert "https://book.example.org" in appointment_2["Body"]
    assert 'ivr_followup_sms_total{result="sent"} 2.0' in metrics


async def test_a_failure_is_counted_and_not_retried(standin: TwilioApiStandIn, redis: Redis) -> None:
    """Twilio answering 500: one attempt, a warning, a count; the call itself was answered normally."""
    standin.status = 500
    async with serving(make_settings(**_settings(standin))) as twilio:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        spoken = await call.press("1")
        assert spoken.says[0].startswith("Hang up and call 911 now.")
        await asyncio.sleep(0.5)
        metrics = (await twilio.client.get("/metrics")).text
    assert len(standin.requests) == 1
    assert 'ivr_followup_sms_total{result="failed"} 1.0' in metrics


async def test_no_follow_up_to_someone_who_opted_out(standin: TwilioApiStandIn, redis: Redis) -> None:
    """A caller who texted STOP to our number gets no follow-up text."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        await twilio.text("STOP", sender=CALLER, to=OUR_NUMBER)
        await _reach_emergency(twilio)
        metrics = (await twilio.client.get("/metrics")).text
    assert standin.requests == []
    assert 'ivr_followup_sms_total{result="skipped_opted_out"} 1.0' in metrics


async def test_without_followup_sms_nothing_is_sent(standin: TwilioApiStandIn, redis: Redis) -> None:
    """FOLLOWUP_SMS off (the default): no request reaches the API."""
    async with serving(make_settings(twilio_api_base_url=standin.url)) as twilio:
        await _reach_emergency(twilio)
    await asyncio.sleep(0.3)
    assert standin.requests == []


@contextlib.asynccontextmanager
async def _real_server(settings: dict[str, object]) -> AsyncIterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(public_base_url=base, **settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        await task


async def test_the_text_never_delays_the_callers_answer(standin: TwilioApiStandIn, redis: Redis) -> None:
    """With the API taking 2 s to answer, the outcome still reaches the caller at once over real HTTP;
    the text is sent after the reply."""
    standin.delay = 2.0
    async with (
        _real_server(_settings(standin)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        twilio = TwilioSimulator(client, AUTH_TOKEN, base)
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        began = time.monotonic()
        spoken = await call.press("1")
        answered = time.monotonic() - began
        assert spoken.says[0].startswith("Hang up and call 911 now.")
        assert answered < 0.5, answered
        await asyncio.to_thread(standin.wait_for, 1)
    assert len(standin.requests) == 1


SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize("service", [SERVICE, None])
async def test_follow_ups_go_through_the_messaging_service_with_a_status_callback(
    standin: TwilioApiStandIn, redis: Redis, service: str | None
) -> None:
    """With TWILIO_MESSAGING_SERVICE_SID the REST request names the service instead of a From number;
    either way it asks Twilio to report delivery to /sms/status on the public URL."""
    async with serving(make_settings(**_settings(standin, twilio_messaging_service_sid=service))) as twilio:
        await _reach_emergency(twilio)
    [request] = standin.wait_for(1)
    if service:
        assert request.form["MessagingServiceSid"] == SERVICE
        assert "From" not in request.form
    else:
        assert request.form["From"] == OUR_NUMBER
        assert "MessagingServiceSid" not in request.form
    assert request.form["StatusCallback"] == f"{PUBLIC_BASE_URL}/sms/status"
    assert request.form["To"] == CALLER


async def test_the_status_callback_counts_texts_that_could_not_be_delivered(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """Twilio reports a follow-up to a landline as undelivered with error 30006: counted by status
    and error; delivered counted too; statuses on the way (sent) are not; nothing is stored. The
    callback is signed like every webhook."""
    async with serving(make_settings(**_settings(standin, twilio_messaging_service_sid=SERVICE))) as twilio:
        base = {"MessageSid": new_sid("SM"), "AccountSid": ACCOUNT, "MessagingServiceSid": SERVICE}
        for status, error in (("sent", ""), ("undelivered", "30006"), ("delivered", ""), ("failed", "21610")):
            params = {**base, "MessageStatus": status} | ({"ErrorCode": error} if error else {})
            response = await twilio.post("/sms/status", params)
            assert response.status_code == 200
            assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
        unsigned = await twilio.client.post(
            "/sms/status", content=urlencode({**base, "MessageStatus": "failed"}), headers=FORM_HEADERS
        )
        assert unsigned.status_code == 403
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_followup_delivery_total{error="30006",status="undelivered"} 1.0' in metrics
    assert 'ivr_followup_delivery_total{error="",status="delivered"} 1.0' in metrics
    assert 'ivr_followup_delivery_total{error="other",status="failed"} 1.0' in metrics
    assert 'status="sent"' not in metrics
    assert await redis.dbsize() == 0


async def test_an_anonymous_caller_gets_no_follow_up_attempt(standin: TwilioApiStandIn, redis: Redis) -> None:
    """A call without a caller number (withheld: From is not an E.164 number) reaches its outcome;
    no text is attempted, and that is counted."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        call = twilio.call(caller="anonymous", to=OUR_NUMBER)
        await call.start()
        spoken = await call.press("1")
        assert spoken.says[0].startswith("Hang up and call 911 now.")
        metrics = (await twilio.client.get("/metrics")).text
    await asyncio.sleep(0.2)
    assert standin.requests == []
    assert 'ivr_followup_sms_total{result="skipped_no_number"} 1.0' in metrics
