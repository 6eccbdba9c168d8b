"""Signature checking against the URL Twilio signed."""

from __future__ import annotations

from ivr.channels.signatures import SignatureChecker

TOKEN = "0123456789abcdef0123456789abcdef"
PARAMS = [("From", "+15551230000"), ("Body", "yes"), ("To", "+15550001111")]


def test_behind_a_proxy_the_public_url_is_what_counts() -> None:
    """The app sees http://internal:8000/sms; Twilio signed https://public/sms, and that validates."""
    checker = SignatureChecker(TOKEN, "https://triage.example.org")
    url = checker.signed_url("/sms", "", lambda: "http://10.0.0.5:8000/sms")
    assert url == "https://triage.example.org/sms"
    signature = checker.sign("https://triage.example.org/sms", PARAMS)
    assert checker.is_valid(url, PARAMS, signature)
    assert not checker.is_valid("http://10.0.0.5:8000/sms", PARAMS, signature)


def test_query_string_is_part_of_the_signed_url() -> None:
    """A signature for one query string does not validate another."""
    checker = SignatureChecker(TOKEN, "https://triage.example.org")
    url = checker.signed_url("/voice/gather", "t=abc", lambda: "http://internal/voice/gather?t=abc")
    assert url == "https://triage.example.org/voice/gather?t=abc"
    signature = checker.sign(url, PARAMS)
    assert checker.is_valid(url, PARAMS, signature)
    assert not checker.is_valid("https://triage.example.org/voice/gather?t=abd", PARAMS, signature)


def test_without_a_public_base_the_request_url_is_used() -> None:
    """With no PUBLIC_BASE_URL the URL the app received is the one validated."""
    checker = SignatureChecker(TOKEN, None)
    assert (
        checker.signed_url("/sms", "x=1", lambda: "https://h.example/sms?x=1") == "https://h.example/sms?x=1"
    )


def test_a_signature_with_or_without_the_default_port_is_accepted() -> None:
    """Twilio may sign https://host:443/...; the library accepts both forms."""
    checker = SignatureChecker(TOKEN, None)
    signature = checker.sign("https://h.example:443/sms", PARAMS)
    assert checker.is_valid("https://h.example/sms", PARAMS, signature)


def test_missing_wrong_or_tampered_signatures_fail_without_raising() -> None:
    """No header, a wrong token, a changed parameter or another URL: all simply invalid."""
    checker = SignatureChecker(TOKEN, None)
    url = "https://h.example/sms"
    good = checker.sign(url, PARAMS)
    assert not checker.is_valid(url, PARAMS, None)
    assert not checker.is_valid(url, PARAMS, "")
    assert not checker.is_valid(url, PARAMS, SignatureChecker("f" * 32, None).sign(url, PARAMS))
    assert not checker.is_valid(url, [*PARAMS[:2], ("To", "+15550009999")], good)
    assert not checker.is_valid("https://h.example/voice", PARAMS, good)
