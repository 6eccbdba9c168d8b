"""Requests Twilio did not sign are refused before anything is stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from redis.asyncio import Redis

from ivr.config import ConfigError, load_settings
from ivr.security import SignatureChecker
from ivr.twilio_sim import FORM_HEADERS, TwilioSimulator
from tests.conftest import make_settings, serving
from tests.support import AUTH_TOKEN, HASH_KEY, OUR_NUMBER, PUBLIC_BASE_URL

SMS = {"MessageSid": "SM" + "1" * 32, "From": "+15557654321", "To": OUR_NUMBER, "Body": "hi"}
CALL = {"CallSid": "CA" + "1" * 32, "From": "+15557654321", "To": OUR_NUMBER, "CallStatus": "ringing"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sms", SMS),
        ("/voice", CALL),
        ("/voice/gather?t=x", CALL),
        ("/voice/status", {**CALL, "CallStatus": "completed"}),
    ],
)
async def test_missing_signature_is_403_and_nothing_is_stored(
    twilio: TwilioSimulator, redis: Redis, path: str, params: dict[str, str]
) -> None:
    """No X-Twilio-Signature header: 403, and Redis is untouched."""
    response = await twilio.client.post(path, content=urlencode(params), headers=FORM_HEADERS)
    assert response.status_code == 403
    assert await redis.dbsize() == 0


async def test_a_signature_made_with_another_token_is_403(twilio: TwilioSimulator, redis: Redis) -> None:
    """A forger without our Auth Token cannot start or move a conversation."""
    forged = SignatureChecker("f" * 32, None).sign(f"{PUBLIC_BASE_URL}/sms", list(SMS.items()))
    response = await twilio.client.post(
        "/sms", content=urlencode(SMS), headers={**FORM_HEADERS, "X-Twilio-Signature": forged}
    )
    assert response.status_code == 403
    assert await redis.dbsize() == 0


async def test_a_signature_for_the_internal_url_is_refused_behind_a_proxy(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """With PUBLIC_BASE_URL set, only the public URL's signature counts, not the internal one."""
    internal = SignatureChecker(AUTH_TOKEN, None).sign("http://app.internal:8000/sms", list(SMS.items()))
    response = await twilio.client.post(
        "/sms", content=urlencode(SMS), headers={**FORM_HEADERS, "X-Twilio-Signature": internal}
    )
    assert response.status_code == 403


async def test_the_properly_signed_request_is_accepted(twilio: TwilioSimulator) -> None:
    """The same request signed for the public URL with our token is answered with TwiML."""
    response = await twilio.post("/sms", SMS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")


OVERRIDES = "ct=1000&rt=5000"


def _signed(url: str) -> dict[str, str]:
    """Headers for SMS signed over `url` by the twilio library's RequestValidator, as Twilio signs."""
    return {
        **FORM_HEADERS,
        "X-Twilio-Signature": SignatureChecker(AUTH_TOKEN, None).sign(url, list(SMS.items())),
    }


@pytest.mark.parametrize("configured", [True, False])
async def test_connection_overrides_on_the_webhook_url_pass_the_signature_check(
    redis: Redis, configured: bool
) -> None:
    """The Console URL is https://host/sms#ct=1000&rt=5000; the fragment never reaches the app. With
    WEBHOOK_CONNECTION_OVERRIDES naming it, a signature over the URL with the fragment is accepted,
    and so is one over the URL without it (Twilio's docs do not say which it signs); a signature for
    other overrides is not. Without the setting, only the URL without the fragment passes."""
    settings = make_settings(
        webhook_connection_overrides=OVERRIDES if configured else None, webhook_budget=2, redis_timeout=0.5
    )
    async with serving(settings) as twilio:
        post = twilio.client.post
        with_fragment = await post(
            "/sms", content=urlencode(SMS), headers=_signed(f"{PUBLIC_BASE_URL}/sms#{OVERRIDES}")
        )
        without = await post("/sms", content=urlencode(SMS), headers=_signed(f"{PUBLIC_BASE_URL}/sms"))
        other = await post(
            "/sms", content=urlencode(SMS), headers=_signed(f"{PUBLIC_BASE_URL}/sms#ct=1000&rt=9000")
        )
    assert with_fragment.status_code == (200 if configured else 403)
    assert without.status_code == 200
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ("ct=1000&rt=3000", "must stay under the rt/tt of WEBHOOK_CONNECTION_OVERRIDES"),
        ("ct=50", "ct must be a whole number from 100 to 10000"),
        ("rc=9", "rc must be a whole number from 0 to 5"),
        ("xx=1", "not one of Twilio's overrides"),
    ],
)
def test_overrides_that_cannot_work_are_refused_at_start(overrides: str, message: str) -> None:
    """A read timeout shorter than the app's own worst answer (8 s budget + 3 s of Redis), or a value
    outside Twilio's documented range, stops the start with the reason."""
    with pytest.raises(ConfigError, match=message):
        load_settings(
            twilio_auth_token=AUTH_TOKEN, ivr_hash_key=HASH_KEY, webhook_connection_overrides=overrides
        )
