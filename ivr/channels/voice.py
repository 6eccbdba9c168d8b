"""Engine output as spoken TwiML: <Say>, a one-key or spoken-answer <Gather>, <Hangup> at the end."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from ivr.channels import hints
from ivr.core.engine import Output
from ivr.core.flow import Flow

# Twilio's <Say> limit for Amazon Polly voices, the tightest of its engines, in UTF-8 bytes.
SAY_LIMIT_BYTES = 3000


# A number of two digits or more. <Say> reads "911" as a cardinal ("nine hundred eleven", "novecientos
# once"); inside <say-as interpret-as="digits"> Polly says each digit (docs.aws.amazon.com/polly/latest
# /dg/say-as-tag.html). Flows may only speak numbers through {emergency} (the checker's spoken-number
# rule), so every one of them is a phone number.
NUMBER = re.compile(r"(\d{2,})")


# English is recognised with Twilio's phone_call model ("best for audio that originated from a phone
# call"); for other languages Twilio picks (docs/twilio.md says why). SPEECH_MODELS changes it.
DEFAULT_SPEECH_MODELS: Mapping[str, str] = {"en": "phone_call"}


@dataclass(frozen=True, slots=True)
class VoiceStyle:
    """How the line sounds, listens and hands over: per flow language a voice, the locale it speaks
    (<Say language>) and the locale speech is recognised in (<Gather language>), which may differ
    (an es-MX voice for callers recognised as es-US); and the nurse's number when callers can press 0."""

    locales: Mapping[str, str] = field(default_factory=lambda: {"en": "en-US", "es": "es-MX"})
    voices: Mapping[str, str] = field(default_factory=lambda: {"en": "Polly.Joanna", "es": "Polly.Mia"})
    recognition: Mapping[str, str] = field(default_factory=lambda: {"en": "en-US", "es": "es-US"})
    # <Gather speechModel> per flow language; a language without one lets Twilio pick.
    speech_models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SPEECH_MODELS))
    # Seconds of silence that end a spoken answer where a model is set: Twilio takes "auto" only
    # without one (warning 13335: "Use a positive integer for speechTimeout whenever you set
    # speechModel").
    speech_timeout: int = 1
    gather_timeout: int = 6  # seconds of silence after the question before the <Redirect>
    speech: bool = True  # accept spoken answers as well as keys
    nurse_number: str | None = None
    dial_timeout: int = 20  # seconds the nurse's phone rings before the caller returns to the questions
    followup: bool = False  # outcomes offer their advice by text (FOLLOWUP_SMS), on a key press

    def locale(self, lang: str) -> str:
        """The locale the voice of a flow language speaks (<Say language>)."""
        return self.locales.get(lang, "en-US")

    def listening(self, lang: str) -> str:
        """The locale speech in this language is recognised in."""
        return self.recognition.get(lang, self.locale(lang))

    def say_attributes(self, lang: str) -> dict[str, str]:
        """The <Say> attributes for a flow language: its voice and locale."""
        attributes = {"language": self.locale(lang)}
        if voice := self.voices.get(lang):
            attributes["voice"] = voice
        return attributes


def say(parent: VoiceResponse | Gather, text: str, style: VoiceStyle, lang: str) -> Say:
    """A <Say> of `text` in `lang`'s voice, every number in it said digit by digit."""
    spoken: Say = parent.say(**style.say_attributes(lang))
    for piece in NUMBER.split(text):
        if NUMBER.fullmatch(piece):
            spoken.say_as(piece, interpret_as="digits")
        elif piece:
            spoken.nest(piece)
    return spoken


# Speech hints are built in ivr.channels.hints; the names stay here for the flow checker.
MAX_HINTS = hints.MAX_HINTS
MAX_HINT_CHARS = hints.MAX_HINT_CHARS


def hint_entries(flow: Flow, lang: str) -> list[str]:
    """What the recogniser should expect in a language, as people say it (ivr.channels.hints)."""
    return hints.entries(flow, lang)


def speech_hints(flow: Flow, lang: str) -> str:
    """The <Gather hints> for a language: hint_entries, comma separated."""
    return hints.attribute(flow, lang)


def render(
    flow: Flow,
    output: Output,
    *,
    action_url: str,
    style: VoiceStyle,
    handoff_url: str = "",
    screen_url: str = "",
    followup_url: str = "",
) -> str:
    """TwiML for one turn. `action_url` receives the answer, and the silence after the gather;
    `handoff_url` is told how a call put through to the nurse ended; `screen_url` gives the TwiML the
    nurse hears on answering, before the two are connected (see ivr.channels.nurse);
    `followup_url` receives the key that asks for an outcome's advice by text."""
    response = VoiceResponse()
    # Notices are said before the <Gather>, so a key pressed during them is not taken as an answer
    # to a question not yet asked.
    for notice in output.notices:
        say(response, flow.texts[notice].text(output.lang, voice=True), style, output.lang)
    if output.handoff and style.nurse_number:
        say(response, flow.texts["nurse_connecting"].text(output.lang, voice=True), style, output.lang)
        dial = response.dial(timeout=style.dial_timeout, action=handoff_url, method="POST")
        # No machineDetection: the press-1 screen already tells a person from a voicemail, and
        # detection would hold back the whisper and hang up on a nurse with a long greeting
        # (see ivr.channels.nurse).
        dial.number(style.nurse_number, url=screen_url, method="POST")
        return str(response.to_xml())
    if output.ask is not None:
        _question(response, flow, output, output.ask, action_url=action_url, style=style)
    if output.ask is not None:
        # Twilio runs the next verb when the gather hears nothing: that is how silence reaches us.
        response.redirect(action_url, method="POST")
    if output.outcome is not None:
        outcome = flow.outcomes[output.outcome]
        spoken = outcome.wording.parts(output.lang, voice=True)
        say(response, " ".join(spoken), style, output.lang)
        if outcome.kind == "emergency":
            # Said once more, last, so the instruction is what a frightened caller hears at the end.
            say(response, spoken[0], style, output.lang)
        if followup_url and offers_followup(flow, output, style):
            # The text is sent only to a caller who asks for it here; silence falls through to the
            # hang-up. Their number is in the request Twilio posts, never in the URL.
            gather = response.gather(
                input="dtmf", num_digits=1, action=followup_url, method="POST", timeout=FOLLOWUP_TIMEOUT
            )
            say(gather, flow.texts[FOLLOWUP_OFFER].text(output.lang, voice=True), style, output.lang)
        response.hangup()
    return str(response.to_xml())


FOLLOWUP_OFFER = "followup_offer"  # the flow text that offers an outcome's advice by text
FOLLOWUP_TAKEN = "followup_taken"  # the flow text said to a caller who pressed the key
FOLLOWUP_KEY = "1"
FOLLOWUP_TIMEOUT = 5  # seconds after the offer before the call hangs up
FOLLOWUP_KINDS = ("today", "appointment")  # the outcomes whose advice is offered by text


def offers_followup(flow: Flow, output: Output, style: VoiceStyle) -> bool:
    """Whether this turn ends a call with the offer of its advice by text: follow-ups are on, the
    flow words the offer, and the outcome is advice for later (care today, an appointment). Never
    when it tells the caller to act now (911, the emergency department, the crisis line): they
    should hang up and go, not stay on the line for a text."""
    if not style.followup or output.outcome is None or FOLLOWUP_OFFER not in flow.texts:
        return False
    return flow.outcomes[output.outcome].kind in FOLLOWUP_KINDS


def followup_taken(flow: Flow, lang: str, style: VoiceStyle) -> str:
    """The caller asked for the advice by text: a word to say so, and the call ends."""
    response = VoiceResponse()
    say(response, flow.texts[FOLLOWUP_TAKEN].text(lang, voice=True), style, lang)
    response.hangup()
    return str(response.to_xml())


def hang_up() -> str:
    """The call ends, nothing said."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def _question(
    response: VoiceResponse, flow: Flow, output: Output, ask: str, *, action_url: str, style: VoiceStyle
) -> None:
    lang = output.lang
    question = flow.questions[ask].wording.text(lang, voice=True)
    listen = style.speech and not output.keys_only
    hint_id = "voice_answer_hint_simple" if output.simple else "voice_answer_hint"
    hint = flow.texts[hint_id if listen else "confirm_by_key"].text(lang, voice=True)
    attributes: dict[str, object] = {
        "input": "dtmf speech" if listen else "dtmf",
        "num_digits": 1,
        "action": action_url,
        "method": "POST",
        "timeout": style.gather_timeout,
    }
    if listen:
        attributes.update(
            language=style.listening(lang), hints=speech_hints(flow, lang), speech_timeout="auto"
        )
        if model := style.speech_models.get(lang):
            attributes.update(speech_model=model, speech_timeout=style.speech_timeout)
    gather = response.gather(**attributes)
    if output.offers:
        # Inside the <Gather>: the caller presses the key as soon as they hear it. Each offer in its
        # own language and voice, so that a caller who does not speak this one still recognises it.
        for other, choice in flow.call_offers(lang):
            say(gather, choice.offer, style, other)
    say(gather, f"{question} {hint}", style, lang)
    if style.nurse_number and "intro" in output.notices:
        # After the first question rather than before it, so the question comes within seconds.
        say(gather, flow.texts["nurse_offer"].text(lang, voice=True), style, lang)


def safety_net(flow: Flow, *, style: VoiceStyle) -> str:
    """What a caller hears when the line itself fails: the red flags and 911 in every language."""
    response = VoiceResponse()
    for lang in flow.languages:
        say(response, flow.texts["safety_net"].text(lang, voice=True), style, lang)
    response.hangup()
    return str(response.to_xml())


def empty() -> str:
    """A response with no verbs, for callbacks whose answer Twilio ignores."""
    return str(VoiceResponse().to_xml())
