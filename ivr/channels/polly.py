"""Amazon Polly voices Twilio can speak with, and the locale each one speaks: refusing a voice that
cannot say a flow's language, or a <Say language> it does not speak, before a caller hears silence.

Twilio's <Say> reference: "Using an invalid combination of voice and language may result in error
and <Say> instruction failure" (twilio.com/docs/voice/twiml/say). Names and locales are Amazon
Polly's "Available voices" table (docs.aws.amazon.com/polly/latest/dg/available-voices.html); Twilio
names them Polly.<Name>, Polly.<Name>-Neural or Polly.<Name>-Generative. Only Polly voices are
accepted: the line says the emergency number with SSML <say-as interpret-as="digits">, which Polly
documents for every engine (docs.aws.amazon.com/polly/latest/dg/say-as-tag.html).
"""

from __future__ import annotations

import re
import unicodedata

_LOCALES: dict[str, tuple[str, ...]] = {
    "en-US": (
        "Danielle",
        "Gregory",
        "Ivy",
        "Joanna",
        "Joey",
        "Justin",
        "Kendra",
        "Kevin",
        "Kimberly",
        "Matthew",
        "Patrick",
        "Ruth",
        "Salli",
        "Stephen",
    ),
    "en-GB": ("Amy", "Arthur", "Brian", "Emma"),
    "en-AU": ("Nicole", "Olivia", "Russell"),
    "en-IN": ("Aditi", "Kajal", "Raveena"),
    "en-IE": ("Niamh",),
    "en-NZ": ("Aria",),
    "en-ZA": ("Ayanda",),
    "es-ES": ("Alba", "Conchita", "Enrique", "Lucia", "Raul", "Sergio"),
    "es-MX": ("Andres", "Mia"),
    "es-US": ("Lupe", "Miguel", "Pedro", "Penelope"),
    "fr-FR": ("Celine", "Lea", "Mathieu", "Remi"),
    "fr-CA": ("Chantal", "Gabrielle", "Liam"),
    "de-DE": ("Daniel", "Hans", "Marlene", "Vicki"),
    "it-IT": ("Adriano", "Bianca", "Carla", "Giorgio"),
    "pt-BR": ("Camila", "Ricardo", "Thiago", "Vitoria"),
    "pt-PT": ("Cristiano", "Ines"),
}
_VOICE_LOCALE = {name.lower(): locale for locale, names in _LOCALES.items() for name in names}
_TWILIO_NAME = re.compile(r"Polly\.([^\W\d_]+)(?:-(?:Neural|Generative|LongForm))?")
LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


class VoiceError(ValueError):
    """A voice, or a voice and locale together, that Twilio cannot be trusted to speak."""


def _plain(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()


def locale_of(voice: str) -> str:
    """The locale a Twilio Polly voice speaks ("Polly.Mia-Neural" -> "es-MX"), or VoiceError."""
    match = _TWILIO_NAME.fullmatch(voice)
    if match is None:
        raise VoiceError(
            f"{voice!r} is not an Amazon Polly voice as Twilio names them (Polly.Name, Polly.Name-Neural):"
            " the line needs Polly to say the emergency number digit by digit"
        )
    locale = _VOICE_LOCALE.get(_plain(match.group(1)))
    if locale is None:
        raise VoiceError(
            f"{voice!r} is not in the list of Polly voices this line knows (ivr/channels/polly.py)"
        )
    return locale


def voices_for(lang: str) -> list[str]:
    """Example voices for a language, to suggest in an error message."""
    return [
        f"Polly.{names[0]} ({locale})" for locale, names in _LOCALES.items() if locale.startswith(f"{lang}-")
    ]


def check(lang: str, voice: str, say_locale: str | None, recognition: str | None) -> str:
    """The <Say language> for a flow language's voice, after checking the voice speaks that language,
    the configured say locale (if any) is the voice's own, and the recognition locale is one of the
    language's; VoiceError says what to change."""
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
