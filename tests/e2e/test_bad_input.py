"""Bad requests are refused or answered with the safety net and touch no state; fallbacks need no
Redis and no signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from redis.asyncio import Redis

from ivr.channels.signatures import SIGNATURE_HEADER, SignatureChecker
from ivr.config import ConfigError
from ivr.simulator.twilio_sim import FORM_HEADERS, Spoken, TwilioSimulator, messages_of, new_sid
from ivr.web.app import create_app
from tests.conftest import make_settings, serving_app
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, safety_net_by_language

SAFETY_NET = "Call 911 now for any of these: trouble breathing"
SMS = {"MessageSid": "SM" + "1" * 32, "From": "+15557654321", "To": OUR_NUMBER, "Body": "hi"}
CALL = {"CallSid": "CA" + "1" * 32, "From": "+15557654321", "To": OUR_NUMBER, "CallStatus": "ringing"}


async def test_a_body_over_64_kb_is_413(twilio: TwilioSimulator, redis: Redis) -> None:
    """A huge body is refused before it is read in full, and nothing is stored."""
    response = await twilio.post("/sms", {**SMS, "Body": "x" * (65 * 1024)})
    assert response.status_code == 413
    assert await redis.dbsize() == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x", ""]
)
async def test_a_body_that_is_not_a_form_is_415(
    twilio: TwilioSimulator, redis: Redis, content_type: str
) -> None:
    """Twilio posts forms; anything else is refused."""
    headers = {"content-type": content_type} if content_type else {}
    response = await twilio.client.post("/sms", content=b'{"Body": "hi"}', headers=headers)
    assert response.status_code == 415
    assert await redis.dbsize() == 0


@pytest.mark.parametrize(
    ("path", "params", "answer"),
    [
        ("/sms", {k: v for k, v in SMS.items() if k != "From"}, "sms"),
        ("/sms", {k: v for k, v in SMS.items() if k != "To"}, "sms"),
        ("/sms", {k: v for k, v in SMS.items() if k != "MessageSid"}, "sms"),
        ("/sms", {**SMS, "MessageSid": "SM123"}, "sms"),
        ("/sms", {**SMS, "MessageSid": "XX" + "1" * 32}, "sms"),
        ("/voice", {}, "voice"),
        ("/voice", {**CALL, "CallSid": "CA-not-a-sid"}, "voice"),
        ("/voice", {**CALL, "CallSid": "XX" + "1" * 32}, "voice"),
        ("/voice/gather?t=x", {**CALL, "CallSid": ""}, "voice"),
        ("/voice/handoff?t=x", {**CALL, "CallSid": "CA123"}, "voice"),
        ("/voice/status", {k: v for k, v in CALL.items() if k != "CallStatus"}, "empty"),
        ("/voice/status", {**CALL, "CallSid": "CA123", "CallStatus": "completed"}, "empty"),
    ],
)
async def test_missing_or_malformed_fields_get_the_safety_net_not_a_4xx(
    twilio: TwilioSimulator, redis: Redis, path: str, params: dict[str, str], answer: str
) -> None:
    """A signed request without the fields Twilio always sends, or with a malformed or unknown-prefix
    SID, gets 200 and the safety net (Twilio counts any 4xx as a failure: a caller would hear an
    application error); nothing is stored, and it is counted."""
    response = await twilio.post(path, params)
    assert response.status_code == 200
    if answer == "sms":
        english, spanish = safety_net_by_language(messages_of(response.text))
        assert english.startswith("Call 911 now for any of these: trouble breathing")
        assert spanish.startswith("Llame al 911 ahora")
    elif answer == "voice":
        assert (
            Spoken.parse(response.text).says[0].startswith("Call 911 now for any of these: trouble breathing")
        )
        assert response.text.endswith("<Hangup /></Response>")
    else:
        assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert await redis.dbsize() == 0
    metrics = (await twilio.client.get("/metrics")).text
    route = {
        "sms": "sms",
        "voice": path.split("?", maxsplit=1)[0].strip("/").replace("/", "_"),
        "empty": "voice_status",
    }
    assert f'ivr_safety_net_answers_total{{reason="malformed",route="{route[answer]}"}} 1.0' in metrics


async def test_a_body_that_is_not_utf8_is_400(twilio: TwilioSimulator, redis: Redis) -> None:
    """Bytes that are not UTF-8 are a malformed form."""
    response = await twilio.client.post("/sms", content=b"Body=\xff\xfe", headers=FORM_HEADERS)
    assert response.status_code == 400
    assert await redis.dbsize() == 0


@pytest.mark.parametrize(("path", "channel"), [("/sms/fallback", "sms"), ("/voice/fallback", "voice")])
@pytest.mark.parametrize("signed", [True, False])
async def test_fallbacks_answer_with_the_safety_net_without_redis_or_a_signature(
    path: str, channel: str, signed: bool
) -> None:
    """The Fallback URLs answer from memory (here the app's Redis does not even exist) and without a
    signature check: Twilio calls them when the primary failed, often for a URL mismatch that would
    fail their signature too. Signed or not, posted or fetched, the answer is the same safety net."""
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        twilio = TwilioSimulator(client, AUTH_TOKEN, PUBLIC_BASE_URL)
        if signed:
            answers = [await twilio.post(path, {**SMS, **CALL})]
        else:
            answers = [
                await client.post(path, content=urlencode(SMS), headers=FORM_HEADERS),
                await client.post(
                    path, content=b"\xff\xfe not even a form", headers={"content-type": "text/plain"}
                ),
                await client.get(path),
            ]
        assert len({a.text for a in answers}) == 1
        response = answers[0]
        assert response.status_code == 200
        if channel == "sms":
            english, spanish = safety_net_by_language(messages_of(response.text))
            assert english.startswith("Call 911 now for any of these: trouble breathing")
            assert spanish.startswith("Llame al 911 ahora")
        else:
            says = Spoken.parse(response.text).says
            assert says[0].startswith("Call 911 now for any of these: trouble breathing")
            assert says[1].startswith("Llame al 911 ahora")
            assert response.text.endswith("<Hangup /></Response>")
        assert all(a.status_code == 200 for a in answers)
        metrics = (await client.get("/metrics")).text
    assert (
        f'ivr_safety_net_answers_total{{reason="fallback",route="{channel}_fallback"}} {len(answers)}.0'
        in metrics
    )


def test_production_does_not_start_without_public_base_url() -> None:
    """Production settings without PUBLIC_BASE_URL: the app refuses to start, saying what to set
    (signatures would otherwise be checked against a URL the client names); with it, it starts."""
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL is not set"):
        create_app(make_settings(public_base_url=None))
    create_app(make_settings())


async def test_a_text_to_a_number_not_served_gets_the_safety_net(redis: Redis) -> None:
    """With TWILIO_NUMBERS set, a signed text or call to another number of the account starts no
    triage: the safety net, counted as unserved; the served number is answered as usual."""
    app = create_app(make_settings(twilio_numbers=OUR_NUMBER))
    async with serving_app(app) as twilio:
        [other] = (await twilio.text("hi", sender="+15550700000", to="+15550999999"))[:1]
        assert other.startswith("Call 911 now for any of these: trouble breathing")
        spoken = await twilio.call(caller="+15550700000", to="+15550999999").start()
        assert spoken.hangup
        [ours, *_] = await twilio.text("hi", sender="+15550700000", to=OUR_NUMBER)
        assert ours.startswith("Muscle weakness advice line")
        metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_safety_net_answers_total{reason="unserved",route="sms"} 1.0' in metrics
    assert 'ivr_safety_net_answers_total{reason="unserved",route="voice"} 1.0' in metrics
    assert await redis.keys("ivr:{m:*") != []  # only the served conversation
    assert len(await redis.keys("ivr:{m:*}:s")) == 1


# ---- signatures ------------------------------------------------------------------------------


@pytest.fixture
async def behind_proxy_with_port(redis: Redis) -> AsyncIterator[httpx.AsyncClient]:
    """The app configured with a public base URL that carries a port, as some proxies are set up."""
    app = create_app(make_settings(public_base_url="https://triage.example.org:8443"))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client,
    ):
        yield client


async def test_a_public_url_with_a_port_is_what_is_signed(behind_proxy_with_port: httpx.AsyncClient) -> None:
    """Twilio signs the URL as configured, port included; the internal URL does not count."""
    params = {**SMS, "MessageSid": new_sid("SM")}
    signer = SignatureChecker(AUTH_TOKEN, None)
    good = signer.sign("https://triage.example.org:8443/sms", list(params.items()))
    response = await behind_proxy_with_port.post(
        "/sms", content=urlencode(params), headers={**FORM_HEADERS, SIGNATURE_HEADER: good}
    )
    assert response.status_code == 200
    internal = signer.sign("http://10.0.0.5:8000/sms", list(params.items()))
    response = await behind_proxy_with_port.post(
        "/sms", content=urlencode(params), headers={**FORM_HEADERS, SIGNATURE_HEADER: internal}
    )
    assert response.status_code == 403


async def test_a_signed_request_replayed_on_another_url_is_403(twilio: TwilioSimulator, redis: Redis) -> None:
    """A signature captured from /voice/status cannot be reused to post to /voice/gather or /sms."""
    params = {**CALL, "CallStatus": "completed"}
    signature = SignatureChecker(AUTH_TOKEN, None).sign(
        f"{PUBLIC_BASE_URL}/voice/status", list(params.items())
    )
    for path in ("/voice/gather?t=x", "/voice", "/sms"):
        response = await twilio.client.post(
            path, content=urlencode(params), headers={**FORM_HEADERS, SIGNATURE_HEADER: signature}
        )
        assert response.status_code == 403, path
    assert await redis.dbsize() == 0


async def test_a_query_string_is_covered_by_the_signature(twilio: TwilioSimulator, redis: Redis) -> None:
    """Changing the step token in the URL of a signed gather post breaks its signature."""
    params = {**CALL, "Digits": "1"}
    signature = SignatureChecker(AUTH_TOKEN, None).sign(
        f"{PUBLIC_BASE_URL}/voice/gather?t=aaa", list(params.items())
    )
    response = await twilio.client.post(
        "/voice/gather?t=bbb",
        content=urlencode(params),
        headers={**FORM_HEADERS, SIGNATURE_HEADER: signature},
    )
    assert response.status_code == 403


async def test_signature_rejections_are_counted(twilio: TwilioSimulator) -> None:
    """Each refused signature shows in /metrics by route."""
    await twilio.client.post("/sms", content=urlencode(SMS), headers=FORM_HEADERS)
    metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_signature_rejections_total{route="/sms"} 1.0' in metrics
