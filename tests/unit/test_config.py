"""Settings: secrets refused when missing or fake, values checked, readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import ConfigError, Settings, load_settings
from ivr.web import create_app

GOOD = {"twilio_auth_token": "0123456789abcdef0123456789abcdef", "ivr_hash_key": "k" * 40}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "TWILIO_AUTH_TOKEN",
        "IVR_HASH_KEY",
        "IVR_INSECURE_DEV",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "EMERGENCY_NUMBER",
        "BOOKING_URL",
        "VOICE_NAMES",
        "VOICE_LOCALES",
        "RECOGNITION_LOCALES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_a_missing_auth_token_stops_the_service_with_a_clear_message() -> None:
    """Without TWILIO_AUTH_TOKEN the settings refuse to load, and say how to fix it."""
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is missing"):
        load_settings(ivr_hash_key="k" * 40)


@pytest.mark.parametrize("token", ["changeme", "your_auth_token", "xxxxxxxxxxxxxxxxxxxxxxxx", "short"])
def test_placeholder_tokens_are_refused(token: str) -> None:
    """Example values pasted into the environment are not accepted as secrets."""
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        load_settings(twilio_auth_token=token, ivr_hash_key="k" * 40)


def test_the_hash_key_must_be_long_and_real() -> None:
    """IVR_HASH_KEY must be present and at least 32 characters."""
    with pytest.raises(ConfigError, match="IVR_HASH_KEY"):
        load_settings(twilio_auth_token=GOOD["twilio_auth_token"], ivr_hash_key="too-short")


def test_the_insecure_development_switch_allows_missing_secrets() -> None:
    """IVR_INSECURE_DEV=1 lets the service start without secrets (and create_app warns)."""
    settings = load_settings(ivr_insecure_dev=True)
    assert settings.twilio_auth_token is None


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """911, one hour for texts, 15 minutes for calls, and no Redis URL unless one is given."""
    settings = Settings(**GOOD)  # type: ignore[arg-type]
    assert settings.emergency_number == "911"
    assert settings.sms_session_ttl == 3600
    assert settings.voice_session_ttl == 900
    assert settings.redis_url is None


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment variables set every knob, including lang=value pairs."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", GOOD["twilio_auth_token"])
    monkeypatch.setenv("IVR_HASH_KEY", GOOD["ivr_hash_key"])
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://triage.example.org/")
    monkeypatch.setenv("VOICE_NAMES", "en=Polly.Matthew, es=Polly.Lupe")
    settings = load_settings()
    assert settings.emergency_number == "112"
    assert settings.public_base_url == "https://triage.example.org"
    assert settings.voice_names == {"en": "Polly.Matthew", "es": "Polly.Lupe"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("emergency_number", "nine-one-one", "EMERGENCY_NUMBER"),
        ("public_base_url", "triage.example.org", "PUBLIC_BASE_URL"),
        ("booking_url", "https://book.example.org/’", "BOOKING_URL"),
        ("sms_session_ttl", 5, "SMS_SESSION_TTL"),
    ],
)
def test_bad_values_are_named(field: str, value: object, message: str) -> None:
    """Each bad value is reported with the name of its environment variable."""
    with pytest.raises(ConfigError, match=message):
        load_settings(**{**GOOD, field: value})


def test_the_default_voices_and_locales_are_a_valid_pair_per_language() -> None:
    """Joanna speaks en-US and Mia es-MX; Spanish speech is recognised as es-US, apart from the voice."""
    settings = Settings(**GOOD)  # type: ignore[arg-type]
    assert settings.say_locales() == {"en": "en-US", "es": "es-MX"}
    assert settings.recognition_locales == {"en": "en-US", "es": "es-US"}


def test_a_voice_with_a_locale_it_does_not_speak_is_refused_with_what_to_do() -> None:
    """es=es-US with Polly.Mia (an es-MX voice) stops the start, naming the fix for either intent."""
    with pytest.raises(ConfigError) as refused:
        load_settings(**GOOD, voice_locales="es=es-US")
    message = str(refused.value)
    assert "Polly.Mia is a es-MX voice" in message
    assert "VOICE_LOCALES es=es-MX" in message
    assert "Polly.Lupe (es-US)" in message
    assert "RECOGNITION_LOCALES es=es-US" in message


def test_recognising_es_us_with_an_es_mx_voice_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recognition locale is free of the voice: es-US speech, Mia's es-MX voice."""
    monkeypatch.setenv("RECOGNITION_LOCALES", "en=en-GB, es=es-US")
    monkeypatch.setenv("VOICE_NAMES", "en=Polly.Amy-Neural, es=Polly.Mia")
    settings = load_settings(**GOOD)
    assert settings.say_locales() == {"en": "en-GB", "es": "es-MX"}
    assert settings.recognition_locales == {"en": "en-GB", "es": "es-US"}


@pytest.mark.parametrize(
    ("names", "recognition", "message"),
    [
        ("en=Polly.Joanna,es=Polly.Joanna", "en=en-US,es=es-US", "speaks en-US, not the flow language 'es'"),
        ("en=Google.en-US-Standard-C,es=Polly.Mia", "en=en-US,es=es-US", "not an Amazon Polly voice"),
        ("en=Polly.Nobody,es=Polly.Mia", "en=en-US,es=es-US", "not in the list of Polly voices"),
        ("en=Polly.Joanna,es=Polly.Mia", "en=en-US,es=en-US", "not a locale of 'es'"),
    ],
)
def test_voices_and_recognition_locales_that_cannot_work_are_refused(
    names: str, recognition: str, message: str
) -> None:
    """A voice for another language, a voice that is not Polly or not known, a recognition locale
    of another language: each is refused at start, with the reason."""
    with pytest.raises(ConfigError, match=message):
        load_settings(**GOOD, voice_names=names, recognition_locales=recognition)


def test_a_flow_language_without_a_voice_stops_the_app() -> None:
    """VOICE_NAMES without a Spanish voice, for a flow that speaks Spanish: the app does not start."""
    settings = Settings(**GOOD, voice_names={"en": "Polly.Joanna"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="VOICE_NAMES has nothing for the flow language 'es'"):
        create_app(settings)
