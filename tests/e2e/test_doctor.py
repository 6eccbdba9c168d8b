"""`ivr doctor` against real parts: the app served in-process behind its public URL, private
redis-servers set up right and wrong, and the stand-in of Twilio's REST API. Every check is shown
to fail (or warn) on its problem, and the whole run to pass on a deployment set up right."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ivr.bench.harness import free_port
from ivr.cli import main
from ivr.config import Settings
from ivr.ops import doctor, twilio_setup
from ivr.ops.doctor import Check, Status
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.redis_servers import RedisServer
from tests.standins import ACCOUNT, ApiError, TwilioApiStandIn
from tests.support import AUTH_TOKEN, PUBLIC_BASE_URL

NUMBER = "+15550106666"


@pytest.fixture
def api() -> Iterator[TwilioApiStandIn]:
    standin = TwilioApiStandIn(credentials={ACCOUNT: AUTH_TOKEN})
    standin.add_number(NUMBER)
    yield standin
    standin.close()


@pytest.fixture
def good_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Append-only persistence and the default policy, noeviction: as docker-compose.yml runs it."""
    server = RedisServer(tmp_path / "good").start(appendonly=True)
    yield server
    server.stop()


def _settings(api: TwilioApiStandIn, redis: RedisServer, **more: object) -> Settings:
    return make_settings(redis_url=redis.url, twilio_account_sid=ACCOUNT, twilio_api_base_url=api.url, **more)


@asynccontextmanager
async def _public(app: Starlette | FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose every request, to any host, reaches `app`: the deployment as Twilio and
    the doctor see it at PUBLIC_BASE_URL."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client,
    ):
        yield client


async def _diagnose(
    settings: Settings, app: Starlette | FastAPI | None = None, **options: str
) -> dict[str, Check]:
    deployment = app if app is not None else create_app(settings)
    async with _public(deployment) as http:
        checks = await doctor.diagnose(settings, http, **options)
    return {c.name: c for c in checks}


def _status(checks: dict[str, Check]) -> dict[str, str]:
    return {name: c.status.value for name, c in checks.items()}


async def test_a_deployment_set_up_right_passes_every_check(
    api: TwilioApiStandIn, good_redis: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `ivr twilio setup`, with Redis as compose runs it: every check passes, exit status 0."""
    settings = _settings(api, good_redis)
    assert twilio_setup.run(settings, number=NUMBER) == 0
    async with _public(create_app(settings)) as http:
        checks, status = await doctor.run(settings, number=NUMBER, service_sid=None, http=http)
    assert {c.name: c.status for c in checks} == dict.fromkeys(
        [
            "secrets",
            "public URL",
            "public /healthz",
            "signed request",
            "forged request",
            "redis",
            "redis eviction",
            "redis persistence",
            "number webhooks",
            "flows check",
        ],
        Status.PASS,
    )
    assert status == 0
    shown = doctor.table(checks)
    assert "10 checks: 0 failed, 0 warned" in shown
    assert "append-only file" in shown


def test_placeholder_secrets_fail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A placeholder Auth Token read from the environment fails `secrets`, saying what to set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "changeme")
    monkeypatch.setenv("IVR_HASH_KEY", "k" * 40)
    monkeypatch.delenv("IVR_INSECURE_DEV", raising=False)
    check = doctor.check_secrets(doctor.load())
    assert check.status is Status.FAIL
    assert "TWILIO_AUTH_TOKEN is missing or a placeholder" in check.detail
    assert "IVR_INSECURE_DEV" not in check.detail


def test_the_retired_insecure_switch_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """IVR_INSECURE_DEV left on a deployment fails `secrets` (the app itself refuses to start)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IVR_INSECURE_DEV", "1")
    check = doctor.check_secrets(doctor.load())
    assert (check.status, check.detail) == (Status.FAIL, "IVR_INSECURE_DEV is set")


def test_no_secrets_at_all_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither secret set is local mode, which a deployment must not be in."""
    monkeypatch.chdir(tmp_path)
    for name in ("TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "IVR_INSECURE_DEV"):
        monkeypatch.delenv(name, raising=False)
    check = doctor.check_secrets(doctor.load())
    assert check.status is Status.FAIL
    assert "local mode" in check.detail


def test_a_public_url_that_is_not_https_fails() -> None:
    """http:// fails; so does none at all."""
    assert (
        doctor.check_public_url(make_settings(public_base_url="http://triage.example.org")).status
        is Status.FAIL
    )
    assert doctor.check_public_url(make_settings(public_base_url=None)).status is Status.FAIL


async def test_a_public_url_that_does_not_answer_fails() -> None:
    """Nothing listening at PUBLIC_BASE_URL: /healthz fails with the error's kind."""
    settings = make_settings(public_base_url=f"https://127.0.0.1:{free_port()}")
    async with httpx.AsyncClient(timeout=2) as http:
        check = await doctor.check_health(settings, http)
    assert check.status is Status.FAIL
    assert "ConnectError" in check.detail


async def test_a_public_url_that_does_not_answer_is_not_taken_for_another_app() -> None:
    """Nothing listening at PUBLIC_BASE_URL: the signature checks say it could not be reached and
    what to check, not that something there failed to check signatures."""
    settings = make_settings(public_base_url=f"https://127.0.0.1:{free_port()}")
    async with httpx.AsyncClient(timeout=2) as http:
        checks = {c.name: c for c in await doctor.check_signatures(settings, http)}
    for name in ("signed request", "forged request"):
        assert checks[name].status is Status.FAIL
        assert "could not reach" in checks[name].detail
        assert "nothing accepted the connection" in checks[name].detail
        assert "triage line?" not in checks[name].todo
    assert "PUBLIC_BASE_URL" in checks["signed request"].todo


async def test_a_deployment_with_another_token_refuses_the_signed_request(
    api: TwilioApiStandIn, good_redis: RedisServer
) -> None:
    """The deployment checks signatures with another token (or another public URL): the request
    signed with ours is refused with 403, and the doctor says every webhook is being refused."""
    settings = _settings(api, good_redis)
    deployment = create_app(make_settings(twilio_auth_token="f" * 32, redis_url=good_redis.url))
    checks = await _diagnose(settings, deployment)
    assert checks["signed request"].status is Status.FAIL
    assert "every webhook" in checks["signed request"].todo
    assert checks["forged request"].status is Status.PASS


async def test_a_deployment_that_checks_no_signature_fails_the_forged_request(
    api: TwilioApiStandIn, good_redis: RedisServer
) -> None:
    """Something at PUBLIC_BASE_URL that takes any request (400 for a missing field, whoever signed)
    fails `forged request`."""

    async def anything(request: Request) -> PlainTextResponse:
        return PlainTextResponse("missing fields", status_code=400)

    careless = Starlette(routes=[Route("/sms", anything, methods=["POST"]), Route("/healthz", anything)])
    checks = await _diagnose(_settings(api, good_redis), careless)
    assert checks["signed request"].status is Status.PASS
    assert checks["forged request"].status is Status.FAIL
    assert "answered 400 to a forged signature" in checks["forged request"].detail


async def test_without_redis_url_redis_fails(api: TwilioApiStandIn) -> None:
    """No REDIS_URL: the in-process store is not a deployment."""
    checks = await doctor.check_redis(make_settings(redis_url=None))
    assert [c.status for c in checks] == [Status.FAIL]
    assert "in-process store" in checks[0].detail


async def test_a_redis_that_does_not_answer_fails() -> None:
    """Nothing listening at REDIS_URL: `redis` fails."""
    (check,) = await doctor.check_redis(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    assert check.status is Status.FAIL
    assert "does not answer" in check.detail


async def test_an_evicting_redis_fails(tmp_path: Path) -> None:
    """maxmemory-policy allkeys-lru: `redis eviction` fails, saying conversations would be dropped."""
    server = RedisServer(tmp_path / "lru", extra=["--maxmemory-policy", "allkeys-lru"]).start()
    try:
        checks = {c.name: c for c in await doctor.check_redis(make_settings(redis_url=server.url))}
    finally:
        server.stop()
    assert checks["redis eviction"].status is Status.FAIL
    assert "allkeys-lru" in checks["redis eviction"].detail
    assert "noeviction" in checks["redis eviction"].todo
    assert checks["redis persistence"].status is Status.PASS


async def test_a_redis_without_persistence_warns(tmp_path: Path) -> None:
    """No append-only file and no snapshots: a warning (a restart loses conversations), not a fail."""
    server = RedisServer(tmp_path / "volatile").start(appendonly=False)
    try:
        checks = {c.name: c for c in await doctor.check_redis(make_settings(redis_url=server.url))}
    finally:
        server.stop()
    assert checks["redis persistence"].status is Status.WARN
    assert "appendonly yes" in checks["redis persistence"].todo
    assert checks["redis eviction"].status is Status.PASS


def test_a_number_pointing_elsewhere_fails(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """Webhooks of the number at another host: fail, naming each setting, and the command to fix it."""
    number = next(iter(n for n in api.numbers.values() if n["phone_number"] == NUMBER))
    number.update(sms_url="https://old.example.org/sms", voice_url=f"{PUBLIC_BASE_URL}/voice")
    check = doctor.check_number(_settings(api, good_redis), NUMBER, None)
    assert check.status is Status.FAIL
    assert "number sms_url is https://old.example.org/sms, not https://triage.example.org/sms" in check.detail
    assert "voice_url" not in check.detail
    assert check.todo == f"run `ivr twilio setup --number {NUMBER}`"


def test_a_number_without_fallbacks_warns(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """Primary webhooks right but no fallback URL: a warning, with the command that sets them."""
    settings = _settings(api, good_redis)
    assert twilio_setup.run(settings, number=NUMBER) == 0
    number = next(iter(n for n in api.numbers.values() if n["phone_number"] == NUMBER))
    number["voice_fallback_url"] = ""
    check = doctor.check_number(settings, NUMBER, None)
    assert check.status is Status.WARN
    assert "number voice_fallback_url" in check.detail


def test_twiml_bins_as_fallbacks_pass(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """Fallbacks at TwiML Bins rather than the app's routes are just as good."""
    settings = _settings(api, good_redis)
    bin_url = "https://handler.twilio.com/twiml/EH" + "5" * 32
    assert (
        twilio_setup.run(settings, number=NUMBER, sms_fallback_url=bin_url, voice_fallback_url=bin_url) == 0
    )
    assert doctor.check_number(settings, NUMBER, None).status is Status.PASS


def test_a_number_the_account_does_not_own_fails(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """Another number: fail, saying the account does not own it."""
    check = doctor.check_number(_settings(api, good_redis), "+15550109999", None)
    assert check.status is Status.FAIL
    assert "does not own +15550109999" in check.detail


def test_an_api_error_fails_the_number_check(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """Twilio refusing the credentials: fail with its status and code."""
    api.errors = {"GET /2010-04-01/": ApiError(401, 20003, "Authenticate")}
    check = doctor.check_number(_settings(api, good_redis), NUMBER, None)
    assert check.status is Status.FAIL
    assert "HTTP 401, error 20003: Authenticate" in check.detail


def test_without_an_account_sid_the_number_is_not_checked(good_redis: RedisServer) -> None:
    """No TWILIO_ACCOUNT_SID: the number cannot be checked, which is a warning."""
    check = doctor.check_number(make_settings(redis_url=good_redis.url), NUMBER, None)
    assert check.status is Status.WARN


def test_flows_that_fail_the_check_fail(tmp_path: Path) -> None:
    """A flow `ivr flows check` refuses fails the doctor too."""
    (tmp_path / "broken.toml").write_text('id = "x"\n[broken\n')
    check = doctor.check_flows(make_settings(flows_dir=tmp_path))
    assert check.status is Status.FAIL
    assert "1 problem(s)" in check.detail


def test_the_command_exits_non_zero_on_any_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr doctor` with nothing set up prints the table and exits 1, so it can gate a deploy."""
    monkeypatch.chdir(tmp_path)
    for name in ("TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "REDIS_URL", "IVR_INSECURE_DEV", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", f"https://127.0.0.1:{free_port()}")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("check ")
    assert re.search(r"^secrets +fail ", out, re.MULTILINE)
    assert re.search(r"^redis +fail +REDIS_URL is not set", out, re.MULTILINE)
    assert "failed" in out.splitlines()[-1]


def test_an_invalid_setting_is_a_failed_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting the app would refuse to start with (a malformed REDIS_URL) is one failed row."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_URL", "mysql://nope")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^configuration +fail ", out, re.MULTILINE)
    assert "REDIS_URL" in out


def test_a_messaging_service_pointing_elsewhere_fails(api: TwilioApiStandIn, good_redis: RedisServer) -> None:
    """With the number in a Messaging Service, the service's inbound URL is the one checked: right
    after setup it passes; pointed elsewhere it fails, naming the service's setting."""
    settings = _settings(api, good_redis)
    number = next(iter(n for n in api.numbers.values() if n["phone_number"] == NUMBER))
    service = api.add_service("Triage", numbers=[str(number["sid"])])
    assert twilio_setup.run(settings, number=NUMBER) == 0
    check = doctor.check_number(settings, NUMBER, None)
    assert check.status is Status.PASS
    assert "and its Messaging Service" in check.detail
    service["inbound_request_url"] = "https://old.example.org/sms"
    check = doctor.check_number(settings, NUMBER, None)
    assert check.status is Status.FAIL
    assert "messaging service inbound_request_url is https://old.example.org/sms" in check.detail
