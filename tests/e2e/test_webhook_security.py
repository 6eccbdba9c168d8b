"""Requests Twilio did not sign are refused before anything is stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from redis.asyncio import Redis

from ivr.security import SignatureChecker
from ivr.twilio_sim import FORM_HEADERS, TwilioSimulator
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL

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
