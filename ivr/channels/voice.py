"""Engine output as spoken TwiML: <Say>, a one-key <Gather> per question, <Hangup> at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from twilio.twiml.voice_response import VoiceResponse

from ivr.engine import Output
from ivr.flow import Flow


@dataclass(frozen=True, slots=True)
class VoiceStyle:
    """How the line sounds: a locale and a text-to-speech voice per flow language."""

    locales: Mapping[str, str] = field(default_factory=lambda: {"en": "en-US", "es": "es-MX"})
    voices: Mapping[str, str] = field(default_factory=lambda: {"en": "Polly.Joanna", "es": "Polly.Mia"})
    gather_timeout: int = 6  # seconds of silence after the question before the <Redirect>

    def say_attributes(self, lang: str) -> dict[str, str]:
        attributes = {"language": self.locales.get(lang, "en-US")}
        if voice := self.voices.get(lang):
            attributes["voice"] = voice
        return attributes


def render(flow: Flow, output: Output, *, action_url: str, style: VoiceStyle) -> str:
    """TwiML for one turn. `action_url` receives the answer, and the silence after the gather."""
    lang = output.lang
    say = style.say_attributes(lang)
    response = VoiceResponse()
    for notice in output.notices:
        response.say(flow.texts[notice].text(lang, voice=True), **say)
    if output.ask is not None:
        question = flow.questions[output.ask].wording.text(lang, voice=True)
        hint = flow.texts["voice_answer_hint"].text(lang, voice=True)
        gather = response.gather(
            input="dtmf",
            num_digits=1,
            action=action_url,
            method="POST",
            timeout=style.gather_timeout,
        )
        gather.say(f"{question} {hint}", **say)
        # Twilio runs the next verb when the gather hears nothing: that is how silence reaches us.
        response.redirect(action_url, method="POST")
    if output.outcome is not None:
        outcome = flow.outcomes[output.outcome]
        spoken = outcome.wording.parts(lang, voice=True)
        response.say(" ".join(spoken), **say)
        if outcome.kind == "emergency":
            # Said once more, last, so the instruction is what a frightened caller hears at the end.
            response.say(spoken[0], **say)
        response.hangup()
    return str(response.to_xml())


def safety_net(flow: Flow, lang: str, *, style: VoiceStyle) -> str:
    """What a caller hears when the line itself fails: the red flags and 911, then goodbye."""
    response = VoiceResponse()
    response.say(flow.texts["safety_net"].text(lang, voice=True), **style.say_attributes(lang))
    response.hangup()
    return str(response.to_xml())


def empty() -> str:
    """A response with no verbs, for callbacks whose answer Twilio ignores."""
    return str(VoiceResponse().to_xml())
