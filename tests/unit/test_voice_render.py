"""The voice renderer: exact TwiML for the opening, questions, re-prompts, outcomes and failures."""

from __future__ import annotations

from ivr.channels import voice
from ivr.channels.voice import VoiceStyle
from ivr.core import engine
from ivr.core.engine import LANGUAGE_MENU, Output
from tests.support import shipped_flow, tiny_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
STYLE = VoiceStyle(
    locales={"en": "en-US", "es": "es-MX"}, voices={"en": "Polly.Joanna", "es": "Polly.Mia"}, gather_timeout=6
)
SAY = '<Say language="en-US" voice="Polly.Joanna">'
SAY_ES = '<Say language="es-MX" voice="Polly.Mia">'
ACTION = "https://h.example/voice/gather?t=abc"
REDIRECT = f'<Redirect method="POST">{ACTION}</Redirect>'


def test_a_call_opens_with_the_notice_in_each_language_then_a_one_key_language_menu() -> None:
    """Notice in English and Spanish, then the menu in a keys-only gather, then the redirect for silence."""
    flow = tiny_flow()
    _, output = engine.start(flow, "voice", now=0)
    assert voice.render(flow, output, action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}Hello. Emergency? Hang up, call 911 now.</Say>"
        f"{SAY_ES}Hola. ¿Emergencia? Llame al 911 ahora.</Say>"
        f'<Gather action="{ACTION}" input="dtmf" method="POST" numDigits="1" timeout="6">'
        f"{SAY}English: 1.</Say>{SAY_ES}Español: 2.</Say></Gather>{REDIRECT}</Response>"
    )


def test_a_question_listens_for_keys_and_speech_in_the_call_language_with_hints() -> None:
    """The gather takes one key or speech, in the call's locale, hinted with that language's words."""
    flow = tiny_flow()
    assert voice.render(flow, Output("es", ask="q1"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>"
        f'<Gather action="{ACTION}" hints="no, si" input="dtmf speech" language="es-MX" method="POST" '
        f'numDigits="1" speechTimeout="auto" timeout="6">'
        f"{SAY_ES}¿P1? Diga u oprima 1 o 2.</Say></Gather>{REDIRECT}</Response>"
    )


def test_confirming_by_keypad_listens_for_keys_only() -> None:
    """After an unsure spoken no, the question is asked again with keypad instructions and no speech."""
    flow = tiny_flow()
    assert voice.render(flow, Output("en", ask="q2", keys_only=True), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>"
        f'<Gather action="{ACTION}" input="dtmf" method="POST" numDigits="1" timeout="6">'
        f"{SAY}Q2? Keypad: 1 or 2.</Say></Gather>{REDIRECT}</Response>"
    )


def test_with_speech_off_questions_take_keys_only() -> None:
    """VOICE_SPEECH=0 gives keypad-only gathers."""
    style = VoiceStyle(locales=STYLE.locales, voices=STYLE.voices, gather_timeout=6, speech=False)
    xml = voice.render(tiny_flow(), Output("en", ask="q1"), action_url=ACTION, style=style)
    assert 'input="dtmf"' in xml
    assert "speech" not in xml


def test_silence_and_wrong_key_are_named_before_the_question_is_repeated() -> None:
    """A re-prompt says what went wrong, then gathers the same question again."""
    flow = tiny_flow()
    for notice, words in (("no_input", "Silence."), ("wrong_key", "Wrong key.")):
        xml = voice.render(flow, Output("en", notices=(notice,), ask="q2"), action_url=ACTION, style=STYLE)
        assert xml.startswith(f"{HEAD}<Response>{SAY}{words}</Say><Gather ")
        assert f"{SAY}Q2? Say or press 1 or 2.</Say></Gather>{REDIRECT}</Response>" in xml


def test_the_language_menu_again_after_silence_names_it_in_each_language() -> None:
    """A silent caller at the menu hears 'no input' in each language and the menu again."""
    flow = tiny_flow()
    output = Output("en", notices=("no_input",), ask=LANGUAGE_MENU, every_language=True)
    xml = voice.render(flow, output, action_url=ACTION, style=STYLE)
    assert xml.startswith(f"{HEAD}<Response>{SAY}Silence.</Say>{SAY_ES}Silencio.</Say><Gather ")


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


def test_safety_net_in_every_language_and_empty() -> None:
    """A failure is answered with the spoken safety net in each language and a hang-up."""
    assert voice.safety_net(tiny_flow(), style=STYLE) == (
        f"{HEAD}<Response>{SAY}Red flags: call 911 now. Broken.</Say>"
        f"{SAY_ES}Alarma: llame al 911 ahora. Falla.</Say><Hangup /></Response>"
    )
    assert voice.empty() == f"{HEAD}<Response />"


def test_a_language_without_a_named_voice_uses_the_locale_alone() -> None:
    """Without a configured voice name only the language is set, and Twilio picks its default voice."""
    style = VoiceStyle(locales={"en": "en-GB"}, voices={}, gather_timeout=5)
    assert style.say_attributes("en") == {"language": "en-GB"}


def test_speech_hints_are_the_words_of_the_language_without_letters_or_digits() -> None:
    """Hints help the recogniser with one-word yes and no answers; letters, digits, symbols and
    phrases are left out."""
    flow = shipped_flow()
    english = voice.speech_hints(flow, "en").split(", ")
    spanish = voice.speech_hints(flow, "es").split(", ")
    assert {"yes", "yeah", "no", "nope", "nah"} <= set(english)
    assert {"si", "claro", "no"} <= set(spanish)
    for hint in english + spanish:
        assert hint.isalpha()
        assert len(hint) > 1
