"""Random input through signed webhooks: never a 5xx, always valid TwiML, state always consistent."""

from __future__ import annotations

import asyncio
import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
import redis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.channels.signatures import SIGNATURE_HEADER, SignatureChecker
from ivr.core.session import decode
from ivr.simulator.twilio_sim import FORM_HEADERS, new_sid
from ivr.web.app import create_app
from tests.conftest import make_settings, redis_test_url
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, shipped_flow

FLOW = shipped_flow()
SIGNER = SignatureChecker(AUTH_TOKEN, None)
SMS_VERBS = {"Response", "Message"}
VOICE_VERBS = {"Response", "Say", "say-as", "Gather", "Redirect", "Hangup"}
TRIED = {"sms": 0, "voice": 0}

# Any text a phone could send, without lone surrogates (they cannot travel as UTF-8 at all).
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
WORDS = st.sampled_from(
    [
        "yes",
        "no",
        "Sí",
        "N",
        "1",
        "2",
        "ESPAÑOL",
        "english",
        "STOP",
        "START",
        "HELP",
        "I can't breathe",
        "no trouble breathing",
        "maybe",
        "",
        " ",
        "🙂",
        "n0",
        "yes no",
    ]
)
SENDERS = st.sampled_from(["+15550700001", "+15550700002", "+15550700003"])


class Client:
    """The app on an event loop of its own, posted to synchronously (Hypothesis drives plain functions)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()
        app = create_app(make_settings())
        self.http = self.loop.run_until_complete(self._enter(app))

    async def _enter(self, app: FastAPI) -> httpx.AsyncClient:
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        return await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://app")
        )

    def post(self, path: str, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, content=body, headers=headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.stack.aclose())
        self.loop.close()


@pytest.fixture
def client() -> Iterator[Client]:
    """One app per test function (Hypothesis runs every example of a test on it)."""
    with redis.Redis.from_url(redis_test_url()) as admin:
        admin.flushdb()
    app_client = Client()
    yield app_client
    app_client.close()


def _post(client: Client, path: str, params: dict[str, str]) -> str:
    signature = SIGNER.sign(PUBLIC_BASE_URL + path, list(params.items()))
    response = client.post(path, urlencode(params), {**FORM_HEADERS, SIGNATURE_HEADER: signature})
    assert response.status_code == 200, (response.status_code, path, params)
    return response.text


def _valid_twiml(xml: str, verbs: set[str]) -> ET.Element:
    root = ET.fromstring(xml)  # noqa: S314 - our own app's output
    assert root.tag == "Response"
    assert {e.tag for e in root.iter()} <= verbs, xml
    return root


def _state_is_consistent() -> None:
    """Every session decodes, sits on a node of its flow, and expires; every key expires."""
    with redis.Redis.from_url(redis_test_url()) as admin:
        for key in admin.keys("*"):
            assert admin.ttl(key) > 0, key
            if key.endswith(b":s"):
                session = decode(admin.get(key) or b"")
                assert not session.ended
                assert session.node in FLOW.questions or session.node == "@language"
                assert session.lang in FLOW.languages
                assert session.turns <= FLOW.limits.max_turns + 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(SENDERS, st.one_of(WORDS, TEXT), st.booleans()), min_size=1, max_size=12))
def test_random_texts(client: Client, events: list[tuple[str, str, bool]]) -> None:
    """Any sequence of texts (random unicode, keywords, answers, repeats of a MessageSid) from a few
    senders gets HTTP 200 and valid <Message> TwiML, and leaves consistent, expiring state."""
    last_sid = new_sid("SM")
    for sender, body, repeat in events:
        sid = last_sid if repeat else new_sid("SM")
        last_sid = sid
        _valid_twiml(
            _post(client, "/sms", {"From": sender, "To": OUR_NUMBER, "Body": body, "MessageSid": sid}),
            SMS_VERBS,
        )
        TRIED["sms"] += 1
    _state_is_consistent()


DIGITS = st.one_of(
    st.sampled_from(["1", "2", "3", "0", "*", "#", ""]), st.text(alphabet="0123456789*#w", max_size=6)
)
CONFIDENCE = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True).map(str), TEXT)
ACTION = st.one_of(
    st.tuples(st.just("keys"), DIGITS, st.none()),
    st.tuples(st.just("speech"), st.one_of(WORDS, TEXT), CONFIDENCE),
    st.tuples(st.just("silence"), st.just(""), st.none()),
    st.tuples(st.just("stale"), DIGITS, st.none()),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ACTION, min_size=1, max_size=12), st.booleans())
def test_random_calls(client: Client, actions: list[tuple[str, str, str | None]], hang_up: bool) -> None:
    """Any sequence of key presses, speech (with any Confidence) and silences, including replays of
    old prompts, gets HTTP 200 and valid voice TwiML, and leaves consistent, expiring state."""
    call_sid = new_sid("CA")
    base = {"CallSid": call_sid, "From": "+15550700009", "To": OUR_NUMBER, "CallStatus": "in-progress"}
    root = _valid_twiml(_post(client, "/voice", base), VOICE_VERBS)
    first_action = root.find("Gather").get("action")  # type: ignore[union-attr]
    for kind, value, confidence in actions:
        gather = root.find("Gather")
        if gather is None:
            break
        action = (first_action if kind == "stale" else gather.get("action")) or ""
        params = dict(base)
        if kind in ("keys", "stale") and value:
            params["Digits"] = value
        if kind == "speech":
            params["SpeechResult"] = value
            if confidence is not None:
                params["Confidence"] = confidence
        root = _valid_twiml(_post(client, action.removeprefix(PUBLIC_BASE_URL), params), VOICE_VERBS)
        TRIED["voice"] += 1
    if hang_up:
        _post(client, "/voice/status", {**base, "CallStatus": "completed"})
    _state_is_consistent()


def test_report_how_many_random_inputs_were_tried() -> None:
    """Not a check of behaviour: it prints the count the closing notes quote, and fails if none ran."""
    print(f"\nrandom webhooks tried: {TRIED['sms']} texts, {TRIED['voice']} call answers")
    assert TRIED["sms"] > 0
    assert TRIED["voice"] > 0
