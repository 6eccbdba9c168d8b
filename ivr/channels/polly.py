"""Amazon Polly voices Twilio can speak with, as exact (voice, engine, locale) triples: refusing at
start a voice that does not exist, an engine the voice lacks, or a <Say language> it does not speak.

Twilio's <Say> reference: "Using an invalid combination of voice and language may result in error
and <Say> instruction failure" (twilio.com/docs/voice/twiml/say). Twilio names a Polly voice
Polly.<Id> for the standard engine, Polly.<Id>-Neural and Polly.<Id>-Generative for the other two
it offers; Amazon's long-form engine has no Twilio name. Which voice has which engine, and the
locale it speaks, is Amazon Polly's "Available voices" table
(docs.aws.amazon.com/polly/latest/dg/available-voices.html) and its "Generative voices" list;
docs/twilio.md says what was checked and how to add a voice. A voice or engine missing here is
refused, never guessed: refusing a real voice costs an operator a minute, accepting a missing one
costs a caller the emergency instruction. Only Polly voices are accepted: the line says the
emergency number with SSML <say-as interpret-as="digits">, which Polly documents for every engine
(docs.aws.amazon.com/polly/latest/dg/say-as-tag.html).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Engine = Literal["standard", "neural", "generative"]
S: tuple[Engine, ...] = ("standard",)
N: tuple[Engine, ...] = ("neural",)
SN: tuple[Engine, ...] = ("standard", "neural")
NG: tuple[Engine, ...] = ("neural", "generative")
SNG: tuple[Engine, ...] = ("standard", "neural", "generative")

# Voice id (as Twilio and Amazon spell it), the locale it speaks, the engines it has at Twilio.
# Voices only on Amazon's long-form engine (Patrick, Alba, Raul) are left out: Twilio cannot say them.
VOICES: dict[str, tuple[str, tuple[Engine, ...]]] = {
    # English (US)
    "Danielle": ("en-US", NG),
    "Gregory": ("en-US", N),
    "Ivy": ("en-US", SN),
    "Joanna": ("en-US", SNG),
    "Joey": ("en-US", SN),
    "Justin": ("en-US", SN),
    "Kendra": ("en-US", SN),
    "Kevin": ("en-US", N),
    "Kimberly": ("en-US", SN),
    "Matthew": ("en-US", SNG),
    "Ruth": ("en-US", NG),
    "Salli": ("en-US", SN),
    "Stephen": ("en-US", N),
    # English (British, Australian, Indian, Irish, New Zealand, South African)
    "Amy": ("en-GB", SNG),
    "Emma": ("en-GB", SN),
    "Brian": ("en-GB", SNG),
    "Arthur": ("en-GB", N),
    "Nicole": ("en-AU", S),
    "Olivia": ("en-AU", NG),
    "Russell": ("en-AU", S),
    "Aditi": ("en-IN", S),
    "Raveena": ("en-IN", S),
    "Kajal": ("en-IN", NG),
    "Niamh": ("en-IE", NG),
    "Aria": ("en-NZ", NG),
    "Ayanda": ("en-ZA", NG),
    # Spanish (Spain, Mexico, US)
    "Conchita": ("es-ES", S),
    "Lucia": ("es-ES", SNG),
    "Enrique": ("es-ES", S),
    "Sergio": ("es-ES", NG),
    "Mia": ("es-MX", SNG),
    "Andres": ("es-MX", NG),
    "Lupe": ("es-US", SNG),
    "Penelope": ("es-US", S),
    "Miguel": ("es-US", S),
    "Pedro": ("es-US", NG),
    # French, German, Italian, Portuguese
    "Celine": ("fr-FR", S),
    "Lea": ("fr-FR", SNG),
    "Mathieu": ("fr-FR", S),
    "Remi": ("fr-FR", NG),
    "Chantal": ("fr-CA", S),
    "Gabrielle": ("fr-CA", N),
    "Liam": ("fr-CA", N),
    "Marlene": ("de-DE", S),
    "Vicki": ("de-DE", SNG),
    "Hans": ("de-DE", S),
    "Daniel": ("de-DE", NG),
    "Carla": ("it-IT", S),
    "Bianca": ("it-IT", SNG),
    "Giorgio": ("it-IT", S),
    "Adriano": ("it-IT", NG),
    "Camila": ("pt-BR", SN),
    "Vitoria": ("pt-BR", SN),
    "Ricardo": ("pt-BR", S),
    "Thiago": ("pt-BR", N),
    "Ines": ("pt-PT", SN),
    "Cristiano": ("pt-PT", S),
}
_SUFFIX: dict[str, Engine] = {"": "standard", "-Neural": "neural", "-Generative": "generative"}
_TWILIO_NAME = re.compile(r"Polly\.([A-Za-z]+)(-[A-Za-z]+)?")
LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


class VoiceError(ValueError):
    """A voice, or a voice and locale together, that Twilio cannot be trusted to speak."""


def triples() -> list[tuple[str, Engine, str]]:
    """Every (Twilio voice name, engine, locale) the line accepts."""
    return [
        (name(voice, engine), engine, locale)
        for voice, (locale, engines) in VOICES.items()
        for engine in engines
    ]


def name(voice: str, engine: Engine) -> str:
    """Twilio's name for a Polly voice on an engine: Polly.Joanna, Polly.Joanna-Neural..."""
    suffix = next(s for s, e in _SUFFIX.items() if e == engine)
    return f"Polly.{voice}{suffix}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def locale_of(voice: str) -> str:
    """The locale a Twilio Polly voice speaks ("Polly.Mia-Neural" -> "es-MX"), or VoiceError when
    that voice does not exist on that engine."""
    match = _TWILIO_NAME.fullmatch(_ascii(voice))
    if match is None:
        raise VoiceError(
            f"{voice!r} is not an Amazon Polly voice as Twilio names them (Polly.Name, Polly.Name-Neural,"
            " Polly.Name-Generative): the line needs Polly to say the emergency number digit by digit"
        )
    voice_id, suffix = match.group(1), match.group(2) or ""
    engine = _SUFFIX.get(suffix)
    if engine is None:
        raise VoiceError(
            f"{voice!r}: Twilio offers Polly voices on the standard, neural and generative engines"
            f" (Polly.Name, Polly.Name-Neural, Polly.Name-Generative), not {suffix[1:]!r}"
        )
    known = VOICES.get(voice_id)
    if known is None or voice != f"Polly.{voice_id}{suffix}":
        spelled = [v for v in VOICES if v.lower() == voice_id.lower()]
        hint = f"; Twilio spells it Polly.{spelled[0]}{suffix}" if spelled else ""
        raise VoiceError(f"{voice!r} is not in the list of Polly voices (ivr/channels/polly.py){hint}")
    locale, engines = known
    if engine not in engines:
        offered = ", ".join(name(voice_id, e) for e in engines)
        raise VoiceError(f"{voice} does not exist: {voice_id} has no {engine} voice; use {offered}")
    return locale


def voices_for(lang: str) -> list[str]:
    """Example voices for a language, one per locale, to suggest in an error message."""
    seen: dict[str, str] = {}
    for voice, (locale, engines) in VOICES.items():
        if locale.startswith(f"{lang}-") and locale not in seen:
            seen[locale] = name(voice, engines[0])
    return [f"{voice} ({locale})" for locale, voice in seen.items()]


def check(lang: str, voice: str, say_locale: str | None, recognition: str | None) -> str:
    """The <Say language> for a flow language's voice, after checking the voice exists on its
    engine and speaks that language, the configured say locale (if any) is the voice's own, and
    the recognition locale is one of the language's; VoiceError says what to change."""
    locale = locale_of(voice)
    if locale.split("-")[0] != lang:
        suggestions = ", ".join(voices_for(lang)) or "another voice"
        raise VoiceError(f"{voice} speaks {locale}, not the flow language {lang!r}; try {suggestions}")
    if say_locale is not None and say_locale != locale:
        raise VoiceError(
            f"{voice} is a {locale} voice, so <Say language> must be {locale}, not {say_locale}: set"
            f" VOICE_LOCALES {lang}={locale} (or leave it unset), or pick a {say_locale} voice"
            f" ({', '.join(v for v in voices_for(lang) if say_locale in v) or 'none known'}). To recognise"
            f" {say_locale} speech, set RECOGNITION_LOCALES {lang}={say_locale} instead"
        )
    if recognition is not None and (not LOCALE.fullmatch(recognition) or recognition.split("-")[0] != lang):
        raise VoiceError(
            f"the recognition locale {recognition!r} is not a locale of {lang!r} (e.g. {lang}-US)"
        )
    return locale
