"""`ivr twilio setup` against a local stand-in of Twilio's REST API: it points a number (or its
Messaging Service) at PUBLIC_BASE_URL, shows a diff, changes nothing the second time, and refuses
what it must with a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.cli import main
from tests.standins import ACCOUNT, AUTH_TOKEN, ApiError, TwilioApiStandIn

NUMBER = "+15550107777"
BASE = "https://triage.example.org"
BIN_SMS = "https://handler.twilio.com/twiml/EH" + "1" * 32
BIN_VOICE = "https://handler.twilio.com/twiml/EH" + "2" * 32
API_KEY = "SK" + "a" * 32


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TwilioApiStandIn]:
    """The stand-in, holding our number among others, and the environment pointing at it."""
    standin = TwilioApiStandIn(credentials={ACCOUNT: AUTH_TOKEN})
    standin.add_number("+15550108888")
    standin.add_number(NUMBER, voice_url="https://old.example.org/voice", sms_url="https://demo.twil.io/sms")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, value in {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": BASE,
        "TWILIO_API_BASE_URL": standin.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_API_KEY", raising=False)
    monkeypatch.delenv("TWILIO_API_SECRET", raising=False)
    yield standin
    standin.close()


def _ours(api: TwilioApiStandIn) -> dict[str, object]:
    return next(n for n in api.numbers.values() if n["phone_number"] == NUMBER)


def test_it_points_the_number_at_the_deployment_then_changes_nothing(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """First run: one update with what differed, the diff shows old and new values. Second run:
    no write at all, and it says so."""
    assert main(["twilio", "setup", "--number", NUMBER]) == 0
    out = capsys.readouterr().out
    number = _ours(api)
    assert number["sms_url"] == f"{BASE}/sms"
    assert number["sms_fallback_url"] == f"{BASE}/sms/fallback"
    assert number["voice_url"] == f"{BASE}/voice"
    assert number["voice_fallback_url"] == f"{BASE}/voice/fallback"
    assert number["status_callback"] == f"{BASE}/voice/status"
    (write,) = api.writes()
    assert write.path == f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{number['sid']}.json"
    assert write.account == ACCOUNT
    assert "VoiceMethod" not in write.form  # already POST: only what differed is sent
    assert "-  voice_url = https://old.example.org/voice" in out
    assert f"+  voice_url = {BASE}/voice" in out
    assert "   voice_method = POST" in out
    assert "TwiML Bins" in out  # the app's own fallbacks fail with it: it says what to do about it

    assert main(["twilio", "setup", "--number", NUMBER]) == 0
    again = capsys.readouterr().out
    assert len(api.writes()) == 1
    assert f"nothing to change: {NUMBER} already points at {BASE}" in again
    assert "\n-  " not in again


def test_a_dry_run_prints_the_diff_and_changes_nothing(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run reads and shows what it would change; no write reaches the API."""
    assert main(["twilio", "setup", "--number", NUMBER, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert api.writes() == []
    assert _ours(api)["voice_url"] == "https://old.example.org/voice"
    assert "-  sms_url = https://demo.twil.io/sms" in out
    assert f"+  sms_url = {BASE}/sms" in out
    assert "-  sms_fallback_url = (empty)" in out
    assert "dry run: nothing was changed" in out


def test_twiml_bins_are_used_as_fallbacks_when_given(api: TwilioApiStandIn) -> None:
    """Bins made from deploy/twiml-bins/ become the fallback URLs of both channels."""
    assert (
        main(
            [
                "twilio",
                "setup",
                "--number",
                NUMBER,
                "--sms-fallback-url",
                BIN_SMS,
                "--voice-fallback-url",
                BIN_VOICE,
            ]
        )
        == 0
    )
    number = _ours(api)
    assert (number["sms_fallback_url"], number["voice_fallback_url"]) == (BIN_SMS, BIN_VOICE)


def test_an_application_that_would_override_the_urls_is_cleared(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TwiML App on the number would win over its URLs: setup clears it, and shows that."""
    _ours(api)["voice_application_sid"] = "AP" + "3" * 32
    assert main(["twilio", "setup", "--number", NUMBER]) == 0
    assert _ours(api)["voice_application_sid"] == ""
    assert "+  voice_application_sid = (empty)" in capsys.readouterr().out


def test_with_a_messaging_service_texts_are_set_on_the_service(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service holding the number is found; its inbound and fallback URLs are set and it stops
    deferring to the number; the number keeps voice only; a second run writes nothing."""
    number = _ours(api)
    service = api.add_service(
        "Triage",
        numbers=[str(number["sid"])],
        inbound_request_url="https://old.example.org/sms",
        use_inbound_webhook_on_number=True,
    )
    api.add_service("Marketing")
    assert main(["twilio", "setup", "--number", NUMBER]) == 0
    assert service["inbound_request_url"] == f"{BASE}/sms"
    assert service["fallback_url"] == f"{BASE}/sms/fallback"
    assert service["use_inbound_webhook_on_number"] is False
    assert number["sms_url"] == "https://demo.twil.io/sms"  # the service's URL is the one used
    assert number["voice_url"] == f"{BASE}/voice"
    paths = [w.path for w in api.writes()]
    assert paths == [
        f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{number['sid']}.json",
        f"/v1/Services/{service['sid']}",
    ]
    out = capsys.readouterr().out
    assert f"messaging service Triage ({service['sid']})" in out
    assert "+  use_inbound_webhook_on_number = false" in out
    assert main(["twilio", "setup", "--number", NUMBER, "--messaging-service", str(service["sid"])]) == 0
    assert len(api.writes()) == 2


def test_it_refuses_a_service_the_number_is_not_in(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """--messaging-service naming another service is refused, with what to do."""
    other = api.add_service("Elsewhere")
    assert main(["twilio", "setup", "--number", NUMBER, "--messaging-service", str(other["sid"])]) == 2
    assert "is not in the Messaging Service" in capsys.readouterr().err
    assert api.writes() == []


def test_it_refuses_a_number_the_account_does_not_own(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """A number not in the account (the API's partial match on +1555010 is not taken for it) is
    refused with a clear message and nothing is written."""
    assert main(["twilio", "setup", "--number", "+1555010"]) == 2
    err = capsys.readouterr().err
    assert f"the account {ACCOUNT} does not own +1555010" in err
    assert api.writes() == []


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("PUBLIC_BASE_URL", "http://triage.example.org", "PUBLIC_BASE_URL must be an https URL"),
        ("--sms-fallback-url", "http://bins.example.org/sms", "--sms-fallback-url must be an https URL"),
        ("--voice-fallback-url", "ftp://bins.example.org/v", "--voice-fallback-url must be an https URL"),
    ],
)
def test_it_refuses_a_url_that_is_not_https(
    api: TwilioApiStandIn,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    value: str,
    message: str,
) -> None:
    """Plain http (or anything but https) is refused before any request reaches Twilio."""
    args = ["twilio", "setup", "--number", NUMBER]
    if setting.startswith("--"):
        args += [setting, value]
    else:
        monkeypatch.setenv(setting, value)
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert api.requests == []


def test_it_needs_the_account_sid(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without TWILIO_ACCOUNT_SID it says what to set, and sends nothing."""
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    assert main(["twilio", "setup", "--number", NUMBER]) == 2
    assert "set TWILIO_ACCOUNT_SID" in capsys.readouterr().err
    assert api.requests == []


def test_an_api_key_and_secret_work_instead_of_the_auth_token(
    api: TwilioApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With TWILIO_API_KEY and TWILIO_API_SECRET the requests authenticate as the key, on the account."""
    api.credentials = {API_KEY: "the-key-secret"}
    monkeypatch.setenv("TWILIO_API_KEY", API_KEY)
    monkeypatch.setenv("TWILIO_API_SECRET", "the-key-secret")
    assert main(["twilio", "setup", "--number", NUMBER]) == 0
    assert {r.account for r in api.requests} == {API_KEY}
    assert _ours(api)["voice_url"] == f"{BASE}/voice"


def test_an_error_from_the_api_is_shown_and_fails(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twilio refusing the update (here error 21402, a bad URL) gives exit status 1 and its message."""
    api.errors = {"POST /2010-04-01/": ApiError(400, 21402, "Url is not valid")}
    assert main(["twilio", "setup", "--number", NUMBER]) == 1
    err = capsys.readouterr().err
    assert "Twilio's API refused: HTTP 400, error 21402: Unable to update record: Url is not valid" in err


def test_wrong_credentials_are_reported(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong Auth Token: Twilio's 401 (20003) is shown and nothing is written."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token-0123456789abcdef")
    assert main(["twilio", "setup", "--number", NUMBER]) == 1
    assert "Twilio's API refused: HTTP 401, error 20003: Authenticate" in capsys.readouterr().err
    assert api.writes() == []


def test_a_number_on_a_sip_trunk_is_refused(
    api: TwilioApiStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trunk overrides the voice URLs; setup refuses rather than detach the number silently."""
    _ours(api)["trunk_sid"] = "TK" + "4" * 32
    assert main(["twilio", "setup", "--number", NUMBER]) == 2
    assert "SIP trunk" in capsys.readouterr().err
    assert api.writes() == []
