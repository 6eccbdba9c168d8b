"""Engine output as spoken TwiML: <Say>, a one-key or spoken-answer <Gather>, <Hangup> at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from twilio.twiml.voice_response import VoiceResponse

from ivr.core.engine import LANGUAGE_MENU, Output
from ivr.core.flow import Flow
from ivr.core.words import fold

# Twilio's <Say> limit for Amazon Polly voices, the tightest of its engines, in UTF-8 bytes.
SAY_LIMIT_BYTES = 3000


@dataclass(frozen=True, slots=True)
class VoiceStyle:
    """How the line sounds, listens and hands over: a locale and a voice per flow language, and
    the nurse's number when callers can press 0 to reach one."""

    locales: Mapping[str, str] = field(default_factory=lambda: {"en": "en-US", "es": "es-MX"})
    voices: Mapping[str, str] = field(default_factory=lambda: {"en": "Polly.Joanna", "es": "Polly.Mia"})
    gather_timeout: int = 6  # seconds of silence after the question before the <Redirect>
    speech: bool = True  # accept spoken answers as well as keys
    nurse_number: str | None = None
    dial_timeout: int = 20  # seconds the nurse's phone rings before the caller returns to the questions

    def locale(self, lang: str) -> str:
        return self.locales.get(lang, "en-US")

    def say_attributes(self, lang: str) -> dict[str, str]:
        attributes = {"language": self.locale(lang)}
        if voice := self.voices.get(lang):
            attributes["voice"] = voice
        return attributes


def speech_hints(flow: Flow, lang: str) -> str:
    """Words the recogniser should expect: the language's one-word yes and no answers (not single
    letters, numbers or symbols)."""
    words = flow.words[lang]
    answers = {fold(w) for w in (*words.yes, *words.no)}
    return ", ".join(sorted(w for w in answers if len(w) > 1 and w.isalpha()))


def render(flow: Flow, output: Output, *, action_url: str, style: VoiceStyle, handoff_url: str = "") -> str:
    """TwiML for one turn. `action_url` receives the answer, and the silence after the gather;
    `handoff_url` is told how a call put through to the nurse ended."""
    response = VoiceResponse()
    for lang in flow.languages if output.every_language else (output.lang,):
        for notice in output.notices:
            response.say(flow.texts[notice].text(lang, voice=True), **style.say_attributes(lang))
            if notice == "intro" and style.nurse_number:
                response.say(flow.texts["nurse_offer"].text(lang, voice=True), **style.say_attributes(lang))
    if output.handoff and style.nurse_number:
        say = style.say_attributes(output.lang)
        response.say(flow.texts["nurse_connecting"].text(output.lang, voice=True), **say)
        response.dial(style.nurse_number, timeout=style.dial_timeout, action=handoff_url, method="POST")
        return str(response.to_xml())
    if output.ask == LANGUAGE_MENU:
        _language_menu(response, flow, action_url=action_url, style=style)
    elif output.ask is not None:
        _question(response, flow, output, output.ask, action_url=action_url, style=style)
    if output.ask is not None:
        # Twilio runs the next verb when the gather hears nothing: that is how silence reaches us.
        response.redirect(action_url, method="POST")
    if output.outcome is not None:
        say = style.say_attributes(output.lang)
        outcome = flow.outcomes[output.outcome]
        spoken = outcome.wording.parts(output.lang, voice=True)
        response.say(" ".join(spoken), **say)
        if outcome.kind == "emergency":
            # Said once more, last, so the instruction is what a frightened caller hears at the end.
            response.say(spoken[0], **say)
        response.hangup()
    return str(response.to_xml())


def _language_menu(response: VoiceResponse, flow: Flow, *, action_url: str, style: VoiceStyle) -> None:
    gather = response.gather(
        input="dtmf", num_digits=1, action=action_url, method="POST", timeout=style.gather_timeout
    )
    for choice in flow.languages:
        gather.say(flow.texts["language_menu"].text(choice, voice=True), **style.say_attributes(choice))


def _question(
    response: VoiceResponse, flow: Flow, output: Output, ask: str, *, action_url: str, style: VoiceStyle
) -> None:
    lang = output.lang
    question = flow.questions[ask].wording.text(lang, voice=True)
    listen = style.speech and not output.keys_only
    hint = flow.texts["voice_answer_hint" if listen else "confirm_by_key"].text(lang, voice=True)
    attributes: dict[str, object] = {
        "input": "dtmf speech" if listen else "dtmf",
        "num_digits": 1,
        "action": action_url,
        "method": "POST",
        "timeout": style.gather_timeout,
    }
    if listen:
        attributes.update(language=style.locale(lang), hints=speech_hints(flow, lang), speech_timeout="auto")
    gather = response.gather(**attributes)
    gather.say(f"{question} {hint}", **style.say_attributes(lang))


def safety_net(flow: Flow, *, style: VoiceStyle) -> str:
    """What a caller hears when the line itself fails: the red flags and 911 in every language."""
    response = VoiceResponse()
    for lang in flow.languages:
        response.say(flow.texts["safety_net"].text(lang, voice=True), **style.say_attributes(lang))
    response.hangup()
    return str(response.to_xml())


def empty() -> str:
    """A response with no verbs, for callbacks whose answer Twilio ignores."""
    return str(VoiceResponse().to_xml())
