"""Requests Twilio did not sign are refused before anything is stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from ivr.channels.signatures import SignatureChecker
from ivr.config import ConfigError, load_settings
from ivr.simulator.twilio_sim import FORM_HEADERS, TwilioSimulator
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
        ("rp=5xx,timeout", "rp=5xx,timeout is not a retry policy Twilio knows"),
        ("rp=", "not one of Twilio's overrides"),
    ],
)
def test_overrides_that_cannot_work_are_refused_at_start(overrides: str, message: str) -> None:
    """A read timeout shorter than the app's own worst answer (8 s budget + 3 s of Redis), a value
    outside Twilio's documented range, or a retry policy Twilio would refuse with error 11243, stops
    the start with the reason."""
    with pytest.raises(ConfigError, match=message):
        load_settings(
            twilio_auth_token=AUTH_TOKEN, ivr_hash_key=HASH_KEY, webhook_connection_overrides=overrides
        )


def test_every_retry_policy_twilio_lists_passes_the_start() -> None:
    """rp takes 4xx, 5xx, ct, rt or all, alone or comma separated."""
    for policy in ("4xx", "5xx", "ct", "rt", "all", "ct,rt", "5xx,ct,rt"):
        settings = load_settings(
            twilio_auth_token=AUTH_TOKEN, ivr_hash_key=HASH_KEY, webhook_connection_overrides=f"rp={policy}"
        )
        assert settings.webhook_connection_overrides == f"rp={policy}"


KEY_ID = "webhooks_sharedkey_01ab23cd45ef67gh89ij01kl23"
KEY_SECRET = "shared-key-secret-0123456789abcdef"
OLD_KEY_ID = "webhooks_sharedkey_00000000000000000000000000"
OLD_SECRET = "the-key-being-rotated-out-0123456789"


def _shared_key_headers(secret: str, key: str, algorithm: str) -> dict[str, str]:
    """SMS signed over the public /sms URL as a Webhook Rule signs it: with a SharedKey's secret and
    the Setting's algorithm, by the twilio library, naming both in the settings header (a name the
    library does not know is put in the header over an HMAC-SHA256 signature)."""
    signed_with = algorithm if algorithm in ("HMAC_SHA1", "HMAC_SHA256") else "HMAC_SHA256"
    signature = RequestValidator(secret).compute_signature(f"{PUBLIC_BASE_URL}/sms", SMS, signed_with)
    return {
        **FORM_HEADERS,
        "X-Twilio-Signature": signature,
        "X-Twilio-Webhooks-Signature-Settings": f"key={key},algorithm={algorithm}",
    }


@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
async def test_a_webhook_signed_with_a_shared_key_is_answered(redis: Redis, algorithm: str) -> None:
    """TWILIO_WEBHOOK_SHARED_KEYS holds the SharedKey (and, mid-rotation, the old one): a request
    signed with either key's secret and the algorithm the header names gets TwiML; a request without
    the header is still checked with the Auth Token."""
    keys = f"{KEY_ID}={KEY_SECRET},{OLD_KEY_ID}={OLD_SECRET}"
    async with serving(make_settings(twilio_webhook_shared_keys=keys)) as twilio:
        post = twilio.client.post
        new = await post(
            "/sms", content=urlencode(SMS), headers=_shared_key_headers(KEY_SECRET, KEY_ID, algorithm)
        )
        old = await post(
            "/sms", content=urlencode(SMS), headers=_shared_key_headers(OLD_SECRET, OLD_KEY_ID, algorithm)
        )
        plain = await twilio.post("/sms", {**SMS, "MessageSid": "SM" + "2" * 32})
    assert (new.status_code, old.status_code, plain.status_code) == (200, 200, 200)
    assert new.headers["content-type"].startswith("application/xml")


@pytest.mark.parametrize(
    ("configured", "secret", "key", "algorithm", "reason"),
    [
        (True, KEY_SECRET, "webhooks_sharedkey_unknown", "HMAC_SHA256", "does not hold"),
        (True, AUTH_TOKEN, KEY_ID, "HMAC_SHA256", "invalid Twilio signature"),
        (True, KEY_SECRET, KEY_ID, "HMAC_SHA512", "algorithm the twilio library does not support"),
        (False, KEY_SECRET, KEY_ID, "HMAC_SHA256", "TWILIO_WEBHOOK_SHARED_KEYS is not set"),
        (False, AUTH_TOKEN, KEY_ID, "HMAC_SHA1", "TWILIO_WEBHOOK_SHARED_KEYS is not set"),
    ],
)
async def test_a_shared_key_signature_that_cannot_be_checked_is_403_with_the_reason(
    redis: Redis, configured: bool, secret: str, key: str, algorithm: str, reason: str
) -> None:
    """A key this deployment does not hold, a signature made with the Auth Token under a shared-key
    header, an algorithm the library does not know, or shared-key signing with no keys configured:
    403 naming the reason (counted, nothing stored), never a fall back to the Auth Token."""
    keys = f"{KEY_ID}={KEY_SECRET}" if configured else None
    async with serving(make_settings(twilio_webhook_shared_keys=keys)) as twilio:
        response = await twilio.client.post(
            "/sms", content=urlencode(SMS), headers=_shared_key_headers(secret, key, algorithm)
        )
        metrics = (await twilio.client.get("/metrics")).text
    assert response.status_code == 403
    assert reason in response.json()["detail"]
    assert 'ivr_signature_rejections_total{route="/sms"} 1.0' in metrics
    assert await redis.keys("ivr:{*}:s") == []


@pytest.mark.parametrize("value", ["webhooks_sharedkey_x", "=secret-0123456789abcdef", "k=changeme"])
def test_shared_keys_that_are_not_id_secret_pairs_stop_the_start_without_echoing_them(value: str) -> None:
    """A pair without an id, a secret or with a placeholder secret is refused at start; the message
    never repeats what was given."""
    with pytest.raises(ConfigError, match="TWILIO_WEBHOOK_SHARED_KEYS") as refused:
        load_settings(twilio_auth_token=AUTH_TOKEN, ivr_hash_key=HASH_KEY, twilio_webhook_shared_keys=value)
    assert value not in str(refused.value)
