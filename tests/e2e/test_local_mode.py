"""Local mode: its page and signing routes exist only there, and its webhooks are still signed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from ivr.channels.signatures import SIGNATURE_HEADER, SignatureChecker
from ivr.config import Settings, load_settings
from ivr.core import gsm
from ivr.core.flow import Flow
from ivr.simulator.twilio_sim import FORM_HEADERS
from ivr.web.app import create_app
from ivr.web.local_mode import IN_PROCESS_BASE_URL, local_mode_of
from tests.conftest import assert_no_tasks_left
from tests.support import no_path, shipped_flow

PAGE_URL = "http://127.0.0.1:8000"
ME = "+15551234567"
SMS = {"MessageSid": "SM" + "1" * 32, "From": ME, "To": "+15550100000", "Body": "hi"}
CALL = {"CallSid": "CA" + "1" * 32, "From": ME, "To": "+15550100000", "CallStatus": "ringing"}
LOCAL_ROUTES = [
    ("GET", "/"),
    ("GET", "/local/flow"),
    ("GET", "/local/static/phone.js"),
    ("POST", "/local/text"),
    ("POST", "/local/call"),
]


@pytest.fixture(autouse=True)
def _nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "IVR_INSECURE_DEV", "PUBLIC_BASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def local_settings(**overrides: object) -> Settings:
    return load_settings(**overrides)


@asynccontextmanager
async def browser(
    app: FastAPI, *, client: tuple[str, int] = ("127.0.0.1", 50123), base_url: str = PAGE_URL
) -> AsyncIterator[httpx.AsyncClient]:
    """What the page's browser sends: plain requests from this computer (or `client`)."""
    transport = httpx.ASGITransport(app=app, client=client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url) as http,
    ):
        yield http
    assert_no_tasks_left()


@pytest.fixture
def flow() -> Flow:
    return shipped_flow()


@pytest.fixture
async def page() -> AsyncIterator[httpx.AsyncClient]:
    async with browser(create_app(local_settings())) as http:
        yield http


async def text(http: httpx.AsyncClient, body: str, phone: str = ME) -> dict[str, Any]:
    response = await http.post("/local/text", json={"phone": phone, "body": body})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def call(http: httpx.AsyncClient, action: str, **fields: object) -> dict[str, Any]:
    response = await http.post("/local/call", json={"action": action, "phone": ME, **fields})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def test_the_page_and_its_assets_are_served(page: httpx.AsyncClient) -> None:
    """GET / is the simulator page; its script and style are served; nothing else under static."""
    home = await page.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert 'id="messages"' in home.text
    assert 'id="keypad"' in home.text
    assert (await page.get("/local/static/phone.js")).status_code == 200
    assert (await page.get("/local/static/phone.css")).status_code == 200
    assert (await page.get("/local/static/index.html")).status_code == 404
    assert (await page.get("/local/static/..%2fsimulator.py")).status_code == 404


async def test_the_side_panel_reads_the_flow_model(page: httpx.AsyncClient, flow: Flow) -> None:
    """The questions come from the flow, in the order a caller who says no meets them, with their
    wording in every language and where each answer leads."""
    described = (await page.get("/local/flow")).json()
    assert described["languages"] == list(flow.languages)
    assert [q["id"] for q in described["questions"]] == flow.question_order()
    for q in described["questions"]:
        question = flow.questions[q["id"]]
        assert (q["yes"], q["no"], q["red_flag"]) == (question.yes, question.no, question.red_flag)
        for lang in flow.languages:
            assert q["text"][lang] == question.wording.text(lang, voice=False)
    assert {o["id"]: o["kind"] for o in described["outcomes"]} == {
        oid: o.kind for oid, o in flow.outcomes.items()
    }


@pytest.mark.parametrize(("path", "params"), [("/sms", SMS), ("/voice", CALL), ("/voice/gather?t=x", CALL)])
async def test_webhooks_stay_signed_in_local_mode(path: str, params: dict[str, str]) -> None:
    """Unsigned and forged webhooks get 403 in local mode; one signed with the process's own token
    passes, so the 403 comes from the check and not from a closed door."""
    app = create_app(local_settings())
    local = local_mode_of(app)
    assert local is not None
    url = IN_PROCESS_BASE_URL + path
    forged = SignatureChecker("f" * 32, None).sign(url, list(params.items()))
    genuine = SignatureChecker(local.auth_token, None).sign(url, list(params.items()))
    async with browser(app, base_url=IN_PROCESS_BASE_URL) as http:
        body = urlencode(params)
        unsigned = await http.post(path, content=body, headers=FORM_HEADERS)
        wrong = await http.post(path, content=body, headers={**FORM_HEADERS, SIGNATURE_HEADER: forged})
        right = await http.post(path, content=body, headers={**FORM_HEADERS, SIGNATURE_HEADER: genuine})
    assert (unsigned.status_code, wrong.status_code) == (403, 403)
    assert right.status_code == 200


@pytest.mark.redis
@pytest.mark.parametrize(("method", "path"), LOCAL_ROUTES)
async def test_no_local_route_exists_in_production(app: FastAPI, method: str, path: str) -> None:
    """With real secrets the page and the signing routes are not there: 404."""
    assert local_mode_of(app) is None
    async with browser(app) as http:
        response = await http.request(method, path, json={"phone": ME, "body": "hi", "action": "start"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("client", "base_url"),
    [(("192.168.1.5", 40000), PAGE_URL), (("127.0.0.1", 40000), "http://rebound.example.org:8000")],
)
@pytest.mark.parametrize(("method", "path"), LOCAL_ROUTES)
async def test_local_routes_answer_this_computer_only(
    client: tuple[str, int], base_url: str, method: str, path: str
) -> None:
    """Another computer, or a page that reached the server under another name (DNS rebinding),
    finds no local route."""
    async with browser(create_app(local_settings()), client=client, base_url=base_url) as http:
        response = await http.request(method, path, json={"phone": ME, "body": "hi", "action": "start"})
    assert response.status_code == 404


async def test_posts_must_be_json(page: httpx.AsyncClient) -> None:
    """A plain form, which any site could make a browser send, is refused."""
    response = await page.post("/local/text", data={"phone": ME, "body": "hi"})
    assert response.status_code == 415


async def test_a_text_conversation_goes_through_the_real_webhook(page: httpx.AsyncClient, flow: Flow) -> None:
    """A text gets the line's first reply, 911 first, with its segments and encoding, and places the
    conversation at the first question; a yes gives the emergency outcome; the webhook counted both."""
    first_question = flow.question_order()[0]
    reply = await text(page, "hello")
    assert reply["messages"][0]["text"].startswith(flow.texts["intro"].text("en", voice=False)[:30])
    assert "call 911 now" in reply["messages"][0]["text"]
    assert reply["at"] == {"node": first_question, "lang": "en"}
    for message in reply["messages"]:
        body = message["text"]
        assert message["segments"] == gsm.segments(body)
        assert message["encoding"] == gsm.encoding_of(body)
        assert message["units"] == gsm.length_in_units(body)
        assert message["units"] <= message["capacity"]
    reply = await text(page, "Y")
    assert reply["at"]["node"] == flow.questions[first_question].yes == "emergency"
    assert reply["messages"][0]["text"].startswith("Call 911 now.")
    metrics = (await page.get("/metrics")).text
    assert 'ivr_webhook_responses_total{route="sms",status="200"} 2.0' in metrics
    assert "ivr_signature_rejections_total{" not in metrics


async def test_a_copied_example_env_with_a_public_url_still_texts(flow: Flow) -> None:
    """.env.example copied as it is (secrets empty, PUBLIC_BASE_URL set): local mode, and the page's
    texts are signed for the URL the app checks, so they pass."""
    settings = local_settings(
        twilio_auth_token="", ivr_hash_key="", public_base_url="https://triage.example.org"
    )
    async with browser(create_app(settings)) as http:
        reply = await text(http, "hello")
    assert reply["at"]["node"] == flow.question_order()[0]


async def test_a_spanish_text_is_placed_in_spanish(page: httpx.AsyncClient, flow: Flow) -> None:
    """A first text in Spanish runs in Spanish, and the page is told so."""
    reply = await text(page, "Hola, tengo debilidad")
    assert reply["at"] == {"node": flow.question_order()[0], "lang": "es"}


@pytest.mark.parametrize(
    ("texts", "taken", "answered", "outcome_kind"),
    [
        (["hi", "yes"], "yes", True, "emergency"),
        (["hi", "no"], "no", True, None),
        (["hi", "not sure"], "unsure", True, "unsure"),
        (["hi", "banana"], "unclear", True, None),
        (["hi", "no", "I can't breathe"], "emergency_words", True, "emergency"),
        (["hi", "help me"], "help", False, None),
        (["hi", "ESPAÑOL"], "language", False, None),
    ],
)
async def test_each_reply_says_how_the_line_took_it(
    page: httpx.AsyncClient,
    flow: Flow,
    texts: list[str],
    taken: str,
    answered: bool,
    outcome_kind: str | None,
) -> None:
    """The page is told how the service took each text (the class of answer, or what else it
    was), the question it answered, and the outcome reached: it never guesses from the reply."""
    phone = "+15550142" + str(abs(hash(tuple(texts))) % 1000).zfill(3)
    first = await text(page, texts[0], phone)
    assert first["taken"]["taken"] == "start"
    for body in texts[1:-1]:
        await text(page, body, phone)
    before = len(texts) - 2  # questions answered before the last text
    note = (await text(page, texts[-1], phone))["taken"]
    assert note["taken"] == taken
    assert note["question"] == (flow.question_order()[before] if answered else None)
    assert note["kind"] == outcome_kind
    assert (note["outcome"] is None) == (outcome_kind is None)
    assert note["lang"] == ("es" if taken == "language" else "en")


async def test_the_rate_limit_is_reported_with_its_numbers(page: httpx.AsyncClient) -> None:
    """Past RATE_LIMIT_TEXTS texts the reply says the number was paused, and the flow tells the
    page the limit and its window, to explain it."""
    limit = (await page.get("/local/flow")).json()["rate_limit"]
    assert limit == {"texts": 20, "window_seconds": 300}
    phone = "+15550143210"
    for _ in range(limit["texts"]):
        await text(page, "hello", phone)
    paused = await text(page, "hello", phone)
    assert paused["taken"]["taken"] == "rate_limited"
    assert (await text(page, "hello", phone))["taken"]["taken"] == "rate_limited"


async def test_a_call_with_speech_silence_and_keys(page: httpx.AsyncClient, flow: Flow) -> None:
    """A call starts at the first question in English, the Spanish offer read in the Spanish voice;
    a spoken no heard with little confidence is asked again by keypad; a silence repeats the
    question; keys then walk to the appointment, the line hangs up and the call is forgotten."""
    order = no_path(flow)
    started = await call(page, "start")
    sid = started["call"]
    assert started["at"] == {"node": order[0], "lang": "en"}
    assert started["listening"] == "keys and speech"
    assert "911" in started["says"][0]["text"]
    assert {"text": flow.call_languages["es"].offer, "locale": "es-MX"} in started["says"]
    assert {say["locale"] for say in started["says"]} == {"en-US", "es-MX"}

    unsure = await call(page, "say", call=sid, words="no", confidence=0.3)
    assert unsure["at"]["node"] == order[0]
    assert unsure["listening"] == "keys"
    assert flow.texts["confirm_by_key"].text("en", voice=True) in unsure["says"][-1]["text"]

    quiet = await call(page, "silence", call=sid)
    assert quiet["says"][0]["text"] == flow.texts["no_input"].text("en", voice=True)
    assert quiet["listening"] == "keys"
    assert quiet["at"]["node"] == order[0]

    reply = quiet
    for _ in order:
        reply = await call(page, "press", call=sid, keys="2")
    assert reply["at"]["node"] == "appointment"
    assert reply["ended"] is True
    assert reply["listening"] is None
    gone = await page.post("/local/call", json={"action": "press", "call": sid, "phone": ME, "keys": "1"})
    assert gone.status_code == 404


async def test_hanging_up_ends_the_call(page: httpx.AsyncClient) -> None:
    """The person hangs up mid-call: Twilio reports it, and the call is over."""
    sid = (await call(page, "start"))["call"]
    ended = await call(page, "hangup", call=sid)
    assert ended == {"call": sid, "says": [], "listening": None, "ended": True, "at": None, "taken": None}
    metrics = (await page.get("/metrics")).text
    assert 'ivr_webhook_responses_total{route="voice_status",status="200"} 1.0' in metrics


async def test_words_into_a_keys_only_gather_are_refused_as_twilio_would_never_send_them(
    page: httpx.AsyncClient,
) -> None:
    """Confirming a faint no takes keys only: saying something there is a conflict, not a webhook;
    the key for Spanish still works there."""
    sid = (await call(page, "start"))["call"]
    assert (await call(page, "say", call=sid, words="no", confidence=0.3))["listening"] == "keys"
    response = await page.post(
        "/local/call", json={"action": "say", "call": sid, "phone": ME, "words": "hola", "confidence": 0.9}
    )
    assert response.status_code == 409
    assert (await call(page, "press", call=sid, keys="9"))["at"]["lang"] == "es"


async def test_a_call_belongs_to_the_phone_that_started_it(page: httpx.AsyncClient) -> None:
    """Another number cannot press keys in someone else's call."""
    sid = (await call(page, "start"))["call"]
    other = await page.post(
        "/local/call", json={"action": "press", "call": sid, "phone": "+15559999999", "keys": "1"}
    )
    assert other.status_code == 404
