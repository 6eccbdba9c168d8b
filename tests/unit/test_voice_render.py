"""The voice renderer: exact TwiML for questions, re-prompts, outcomes and failures."""

from __future__ import annotations

from ivr import engine
from ivr.channels import voice
from ivr.channels.voice import VoiceStyle
from ivr.engine import Output
from tests.support import tiny_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
STYLE = VoiceStyle(locales={"en": "en-US"}, voices={"en": "Polly.Joanna"}, gather_timeout=6)
SAY = '<Say language="en-US" voice="Polly.Joanna">'
ACTION = "https://h.example/voice/gather?t=abc"


def test_intro_then_question_in_a_one_key_gather_then_redirect_for_silence() -> None:
    """The intro is said first; the question waits for one key; silence falls through to the redirect."""
    flow = tiny_flow()
    _, output = engine.start(flow, "voice", now=0)
    assert voice.render(flow, output, action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}Hello. Emergency? Hang up, call 911 now.</Say>"
        f'<Gather action="{ACTION}" input="dtmf" method="POST" numDigits="1" timeout="6">'
        f"{SAY}Q1? Press 1 or 2.</Say></Gather>"
        f'<Redirect method="POST">{ACTION}</Redirect></Response>'
    )


def test_silence_and_wrong_key_are_named_before_the_question_is_repeated() -> None:
    """A re-prompt says what went wrong, then gathers the same question again."""
    flow = tiny_flow()
    for notice, words in (("no_input", "Silence."), ("wrong_key", "Wrong key.")):
        xml = voice.render(flow, Output("en", notices=(notice,), ask="q2"), action_url=ACTION, style=STYLE)
        assert xml.startswith(f"{HEAD}<Response>{SAY}{words}</Say><Gather ")
        assert f"{SAY}Q2? Press 1 or 2.</Say></Gather>" in xml


def test_emergency_outcome_is_spoken_with_the_instruction_repeated_then_hangs_up() -> None:
    """The spoken wording is used, the call-now sentence comes again at the end, and the call ends."""
    flow = tiny_flow()
    assert voice.render(flow, Output("en", outcome="urgent"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}Hang up, call 911 now. E2.</Say>{SAY}Hang up, call 911 now.</Say>"
        "<Hangup /></Response>"
    )


def test_other_outcomes_are_spoken_once_then_hang_up_without_links() -> None:
    """Non-emergency outcomes are said once; a booking link is never read aloud."""
    flow = tiny_flow(booking_url="https://b.example")
    assert voice.render(flow, Output("en", outcome="visit"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}See a provider. Expect tests. Net: call 911.</Say><Hangup /></Response>"
    )


def test_safety_net_and_empty() -> None:
    """A failure is answered with the spoken safety net and a hang-up; callbacks get an empty response."""
    assert voice.safety_net(tiny_flow(), "en", style=STYLE) == (
        f"{HEAD}<Response>{SAY}Broken. Red flags: call 911 now.</Say><Hangup /></Response>"
    )
    assert voice.empty() == f"{HEAD}<Response />"


def test_a_language_without_a_named_voice_uses_the_locale_alone() -> None:
    """Without a configured voice name only the language is set, and Twilio picks its default voice."""
    style = VoiceStyle(locales={"en": "en-GB"}, voices={}, gather_timeout=5)
    assert style.say_attributes("en") == {"language": "en-GB"}
