"""The follow-up text a caller asks for at a call's outcome, against a local stand-in for Twilio's
REST API."""

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
from ivr.channels import sms
from ivr.core.engine import Output
from ivr.simulator.twilio_sim import FORM_HEADERS, Call, Spoken, TwilioSimulator, new_sid
from ivr.store.consent import ConsentLog
from ivr.store.errors import StoreUnavailable
from ivr.store.sessions import SessionStore
from ivr.web.app import create_app
from tests.conftest import make_settings, serving, serving_app
from tests.standins import TwilioApiStandIn
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, script, shipped_flow

ACCOUNT = "AC" + "0123456789abcdef" * 2
CALLER = "+15550901234"


@pytest.fixture
def standin() -> Iterator[TwilioApiStandIn]:
    api = TwilioApiStandIn()
    yield api
    api.close()


def _settings(standin: TwilioApiStandIn, **more: object) -> dict[str, object]:
    return {"followup_sms": True, "twilio_account_sid": ACCOUNT, "twilio_api_base_url": standin.url, **more}


OFFER = "Press 1 now if you want this advice in a text message."
TAKEN = "We will send you this advice by text message. Goodbye."


# The appointment advice by text, with the booking link: the messages a texter gets at that outcome.
ADVICE_MESSAGES = len(
    sms.messages(shipped_flow(booking_url="https://book.example.org"), Output("en", outcome="appointment"))
)


async def _reach_emergency(twilio: TwilioSimulator, caller: str = CALLER) -> Spoken:
    call = twilio.call(caller=caller, to=OUR_NUMBER)
    await call.start()
    await call.press("2")
    return await call.press("1")


async def _reach_appointment(twilio: TwilioSimulator, caller: str = CALLER, *, spanish: bool = False) -> Call:
    """A call answered no to every question: the appointment outcome, then the offer of a text."""
    call = twilio.call(caller=caller, to=OUR_NUMBER)
    await call.start()
    if spanish:
        await call.press("9")
    for _ in script(shipped_flow(), None)[0]:
        await call.press("2")
    return call


async def test_the_advice_is_offered_at_the_outcome_and_sent_only_to_a_caller_who_presses_1(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """At the appointment outcome the call offers the advice by text (press 1), then hangs up on
    silence. A caller who presses 1 hears that it will come, and gets the outcome's messages from our
    number through the REST API with our account; a caller who stays silent or presses another key
    gets nothing. The consent is recorded with a keyed hash, never the number."""
    async with serving(make_settings(**_settings(standin, booking_url="https://book.example.org"))) as twilio:
        asked = await _reach_appointment(twilio, CALLER)
        assert asked.last is not None
        assert asked.last.says[-1] == OFFER
        assert asked.last.hangup
        spoken = await asked.press("1")
        assert spoken.says == (TAKEN,)
        assert spoken.hangup
        silent = await _reach_appointment(twilio, "+15550905555")
        assert silent.last is not None
        assert silent.last.says[-1] == OFFER
        other_key = await _reach_appointment(twilio, "+15550906666", spanish=True)
        assert other_key.last is not None
        assert other_key.last.says[-1] == "Oprima 1 ahora si quiere este consejo en un mensaje de texto."
        assert (await other_key.press("2")).says == ()
        metrics = (await twilio.client.get("/metrics")).text
    sent = [r.form for r in standin.wait_for(ADVICE_MESSAGES)]
    await asyncio.sleep(0.3)
    assert len(standin.requests) == ADVICE_MESSAGES
    assert all((form["To"], form["From"]) == (CALLER, OUR_NUMBER) for form in sent)
    assert sent[0]["Body"].startswith("Make an appointment")
    assert any("https://book.example.org" in form["Body"] for form in sent)
    assert 'ivr_followup_sms_total{result="offered"} 3.0' in metrics
    assert 'ivr_followup_sms_total{result="accepted"} 1.0' in metrics
    assert 'ivr_followup_sms_total{result="sent"} 1.0' in metrics
    [consent] = await ConsentLog(redis, 400).read()
    assert (consent.channel, consent.offer, consent.outcome, consent.lang) == (
        "voice",
        "followup_offer",
        "appointment",
        "en",
    )
    assert consent.caller
    assert CALLER[-10:] not in repr(consent)
    assert await redis.ttl("ivr:consent") > 0


async def test_a_call_told_to_call_911_is_not_kept_on_the_line_for_a_text(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """An emergency outcome ends with "hang up and call 911 now": no offer, no text, nothing stored."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        spoken = await _reach_emergency(twilio)
        assert spoken.says[-1].startswith("Hang up and call 911 now.")
        assert spoken.gather_action is None
        assert spoken.hangup
    await asyncio.sleep(0.3)
    assert standin.requests == []
    assert await redis.keys("ivr:{f:*") == []


async def test_pressing_1_twice_or_too_late_sends_one_text_or_none(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """The offer is taken once: Twilio posting the same key press again sends no second text; once
    the offer has lapsed (its key expired) a press sends nothing and the call just ends."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        call = await _reach_appointment(twilio)
        assert call.last is not None
        action = call.last.gather_action or ""
        first = await twilio.post(action, {**call._params("in-progress"), "Digits": "1"})
        again = await twilio.post(action, {**call._params("in-progress"), "Digits": "1"})
        late = await _reach_appointment(twilio, "+15550907777")
        assert late.last is not None
        for key in await redis.keys("ivr:{f:*"):
            await redis.delete(key)
        lapsed = await late.press("1")
    assert Spoken.parse(first.text).says == (TAKEN,)
    assert Spoken.parse(again.text).says == ()
    assert lapsed.says == ()
    unbooked = len(sms.messages(shipped_flow(), Output("en", outcome="appointment")))
    standin.wait_for(unbooked)
    await asyncio.sleep(0.3)
    # One follow-up: the appointment advice fills several messages, all to the first caller.
    assert [r.form["To"] for r in standin.requests] == [CALLER] * unbooked


async def test_a_failure_is_counted_and_not_retried(standin: TwilioApiStandIn, redis: Redis) -> None:
    """Twilio answering 500: one attempt, a warning, a count; the caller was answered normally."""
    standin.status = 500
    async with serving(make_settings(**_settings(standin))) as twilio:
        call = await _reach_appointment(twilio)
        spoken = await call.press("1")
        assert spoken.says == (TAKEN,)
        await asyncio.sleep(0.5)
        metrics = (await twilio.client.get("/metrics")).text
    assert len(standin.requests) == 1  # the first message failed; the second was not tried
    assert 'ivr_followup_sms_total{result="failed"} 1.0' in metrics


async def test_no_follow_up_to_someone_who_opted_out(standin: TwilioApiStandIn, redis: Redis) -> None:
    """A caller who texted STOP to our number gets no follow-up text, even after pressing 1."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        await twilio.text("STOP", sender=CALLER, to=OUR_NUMBER)
        call = await _reach_appointment(twilio)
        await call.press("1")
        await asyncio.sleep(0.3)
        metrics = (await twilio.client.get("/metrics")).text
    assert standin.requests == []
    assert 'ivr_followup_sms_total{result="skipped_opted_out"} 1.0' in metrics


async def test_without_followup_sms_nothing_is_offered_or_sent(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """FOLLOWUP_SMS off (the default): the outcome ends the call with no offer, and no request
    reaches the API."""
    async with serving(make_settings(twilio_api_base_url=standin.url)) as twilio:
        call = await _reach_appointment(twilio)
        assert call.last is not None
        assert call.last.gather_action is None
        assert not any("text message" in said for said in call.last.says)
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
    """With the API taking 2 s to answer, the caller who pressed 1 is answered at once over real
    HTTP; the text is sent after the reply."""
    standin.delay = 2.0
    async with (
        _real_server(_settings(standin)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        twilio = TwilioSimulator(client, AUTH_TOKEN, base)
        call = await _reach_appointment(twilio)
        began = time.monotonic()
        spoken = await call.press("1")
        answered = time.monotonic() - began
        assert spoken.says == (TAKEN,)
        assert answered < 0.5, answered
        await asyncio.to_thread(standin.wait_for, ADVICE_MESSAGES)
    assert len(standin.requests) == ADVICE_MESSAGES


SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize("service", [SERVICE, None])
async def test_follow_ups_go_through_the_messaging_service_with_a_status_callback(
    standin: TwilioApiStandIn, redis: Redis, service: str | None
) -> None:
    """With TWILIO_MESSAGING_SERVICE_SID the REST request names the service instead of a From number;
    either way it asks Twilio to report delivery to /sms/status on the public URL."""
    async with serving(make_settings(**_settings(standin, twilio_messaging_service_sid=service))) as twilio:
        call = await _reach_appointment(twilio)
        await call.press("1")
    request, *_ = standin.wait_for(ADVICE_MESSAGES)
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
    """A call without a caller number (withheld: From is not an E.164 number) that presses 1: no
    text is attempted and no consent recorded, and that is counted."""
    async with serving(make_settings(**_settings(standin))) as twilio:
        call = await _reach_appointment(twilio, "anonymous")
        await call.press("1")
        metrics = (await twilio.client.get("/metrics")).text
    await asyncio.sleep(0.2)
    assert standin.requests == []
    assert 'ivr_followup_sms_total{result="skipped_no_number"} 1.0' in metrics
    assert await ConsentLog(redis, 400).read() == []


class _StoreThatCannotKeep(SessionStore):
    """The real store, whose Redis fails just when an offer is to be kept."""

    async def keep(self, key: str, value: bytes, ttl_seconds: int) -> None:
        raise StoreUnavailable("Redis failed: ConnectionError")


async def test_an_offer_redis_could_not_keep_still_gives_the_outcome_and_sends_nothing(
    standin: TwilioApiStandIn, redis: Redis
) -> None:
    """Redis failing as the offer is kept: the caller still hears the appointment outcome (the turn
    was saved), the offer is said, and a 1 then ends the call with nothing sent; counted as offer_lost."""
    app = create_app(make_settings(**_settings(standin)), store=_StoreThatCannotKeep(redis))
    async with serving_app(app) as twilio:
        call = await _reach_appointment(twilio)
        assert call.last is not None
        assert any(said.startswith("Please make an appointment") for said in call.last.says)
        assert (await call.press("1")).says == ()
        metrics = (await twilio.client.get("/metrics")).text
    await asyncio.sleep(0.2)
    assert standin.requests == []
    assert 'ivr_followup_sms_total{result="offer_lost"} 1.0' in metrics
