"""Settings: secrets refused when missing or fake, values checked, readable errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.channels import polly
from ivr.config import ConfigError, Settings, listen_host, load_settings
from ivr.web.app import create_app

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the production default, and what local mode refuses
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
        "LOG_FORMAT",
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


def test_with_neither_secret_the_service_is_in_local_mode() -> None:
    """No token and no hash key (a fresh clone) is local mode, not an error."""
    settings = load_settings()
    assert settings.mode == "local"
    assert settings.twilio_auth_token is None


def test_blank_secrets_from_a_copied_example_mean_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """`TWILIO_AUTH_TOKEN=` and `IVR_HASH_KEY=` left empty, as in .env.example, are not set."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    monkeypatch.setenv("IVR_HASH_KEY", " ")
    assert load_settings().mode == "local"


def test_both_real_secrets_are_production() -> None:
    """With both secrets set and real, the service is in production mode."""
    assert Settings(**GOOD).mode == "production"  # type: ignore[arg-type]


def test_one_secret_without_the_other_is_refused_and_says_what_to_set() -> None:
    """Half a configuration is a production mistake, not local mode: refused, naming the missing one."""
    with pytest.raises(ConfigError, match="IVR_HASH_KEY is missing") as caught:
        load_settings(twilio_auth_token=GOOD["twilio_auth_token"])
    assert "local mode" in str(caught.value)


def test_the_retired_insecure_switch_is_refused_with_the_way_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    """IVR_INSECURE_DEV no longer lifts anything; setting it stops the start and points to local mode."""
    monkeypatch.setenv("IVR_INSECURE_DEV", "1")
    with pytest.raises(ConfigError, match="IVR_INSECURE_DEV: is retired") as caught:
        load_settings()
    assert "local mode" in str(caught.value)


def test_local_mode_listens_on_loopback_by_default() -> None:
    """Local mode binds 127.0.0.1 unless told another loopback name; production keeps 0.0.0.0."""
    local = load_settings()
    assert listen_host(local, None) == "127.0.0.1"
    assert listen_host(local, "localhost") == "localhost"
    assert listen_host(local, "::1") == "::1"
    production = Settings(**GOOD)  # type: ignore[arg-type]
    assert listen_host(production, None) == ALL_INTERFACES
    assert listen_host(production, "10.1.2.3") == "10.1.2.3"


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.168.1.20", "triage.example.org"])
def test_local_mode_refuses_any_other_interface_and_says_what_to_set(host: str) -> None:
    """Without real secrets the server never listens where others can reach it; the message names
    both secrets."""
    with pytest.raises(ConfigError, match=f"refusing to listen on {host}") as caught:
        listen_host(load_settings(), host)
    assert "TWILIO_AUTH_TOKEN" in str(caught.value)
    assert "IVR_HASH_KEY" in str(caught.value)


def test_logs_are_text_for_a_person_in_local_mode_and_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """LOG_FORMAT wins when set; unset, local mode writes text and production JSON."""
    assert load_settings().log_style == "text"
    assert Settings(**GOOD).log_style == "json"  # type: ignore[arg-type]
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert load_settings().log_style == "json"


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
    voices = {"voice_names": {"en": "Polly.Joanna"}, "public_base_url": "https://triage.example.org"}
    settings = Settings(**GOOD, **voices)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="VOICE_NAMES has nothing for the flow language 'es'"):
        create_app(settings)


@pytest.mark.parametrize(
    ("voice", "message"),
    [
        ("Polly.Ruth", "Ruth has no standard voice; use Polly.Ruth-Neural, Polly.Ruth-Generative"),
        ("Polly.Gregory", "Gregory has no standard voice; use Polly.Gregory-Neural"),
        ("Polly.Mia-LongForm", "not 'LongForm'"),
        ("Polly.Kevin-Generative", "Kevin has no generative voice; use Polly.Kevin-Neural"),
        ("Polly.Joanna-Turbo", "not 'Turbo'"),
        ("Polly.joanna", "Twilio spells it Polly.Joanna"),
    ],
)
def test_a_voice_that_does_not_exist_on_its_engine_stops_the_start(voice: str, message: str) -> None:
    """A Polly voice is a (voice, engine, locale) triple: a name on an engine it lacks, or on the
    long-form engine Twilio does not offer, is refused at start with the names that do exist."""
    lang = "es" if "Mia" in voice else "en"
    names = f"en=Polly.Joanna,es={voice}" if lang == "es" else f"en={voice},es=Polly.Mia"
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(**GOOD, voice_names=names)


@pytest.mark.parametrize(("voice", "engine", "locale"), polly.triples())
def test_every_listed_triple_starts_the_line_in_its_language(voice: str, engine: str, locale: str) -> None:
    """Each (voice, engine, locale) in the list is accepted for its language and says its own locale."""
    lang = locale.split("-", maxsplit=1)[0]
    assert polly.check(lang, voice, None, f"{lang}-US") == locale
    assert voice.endswith({"neural": "-Neural", "generative": "-Generative"}.get(engine, voice.split(".")[1]))


def test_speech_models_default_to_phone_call_for_english_and_refuse_unknown_names() -> None:
    """English is recognised with Twilio's phone_call model unless told otherwise; a model name
    Twilio does not document for <Gather> stops the start rather than reach every call."""
    assert Settings(**GOOD).speech_models == {"en": "phone_call"}  # type: ignore[arg-type]
    assert load_settings(**GOOD, speech_models="en=numbers_and_commands,es=phone_call").speech_models == {
        "en": "numbers_and_commands",
        "es": "phone_call",
    }
    with pytest.raises(ConfigError, match="en=phone-call is not a speech model Twilio documents"):
        load_settings(**GOOD, speech_models="en=phone-call")
