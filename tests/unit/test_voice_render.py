"""The voice renderer: exact TwiML for the opening, questions, re-prompts, outcomes and failures."""

from __future__ import annotations

from dataclasses import replace

from ivr.channels import voice
from ivr.channels.voice import VoiceStyle
from ivr.core import engine
from ivr.core.engine import Output
from ivr.flows.flowfile import load_flow
from ivr.simulator.twilio_sim import Spoken
from tests.support import SHIPPED, shipped_flow, tiny_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
STYLE = VoiceStyle(
    locales={"en": "en-US", "es": "es-MX"},
    voices={"en": "Polly.Joanna", "es": "Polly.Mia"},
    recognition={"en": "en-US", "es": "es-US"},
    speech_models={},
    gather_timeout=6,
)
N911 = '<say-as interpret-as="digits">911</say-as>'
SAY = '<Say language="en-US" voice="Polly.Joanna">'
SAY_ES = '<Say language="es-MX" voice="Polly.Mia">'
ACTION = "https://h.example/voice/gather?t=abc"
REDIRECT = f'<Redirect method="POST">{ACTION}</Redirect>'


def test_a_call_opens_with_the_notice_then_the_spanish_offer_and_the_first_question() -> None:
    """The notice is said before the gather (a key pressed during it answers nothing); inside the
    gather, the Spanish offer in the Spanish voice, then the first question; then the redirect."""
    flow = tiny_flow()
    _, output = engine.start(flow, "voice", now=0)
    assert voice.render(flow, output, action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}Hello. Emergency? Hang up, call {N911} now.</Say>"
        f'<Gather action="{ACTION}" hints="{voice.speech_hints(flow, "en")}" input="dtmf speech" '
        f'language="en-US" method="POST" numDigits="1" speechTimeout="auto" timeout="6">'
        f"{SAY_ES}Español: 9.</Say>{SAY}Q1? Say or press 1 or 2.</Say></Gather>{REDIRECT}</Response>"
    )


def test_a_re_prompt_in_the_first_language_offers_the_others_again() -> None:
    """Silence, a wrong key or a reply not understood: what went wrong, then the offer and the question."""
    flow = tiny_flow()
    output = Output("en", notices=("no_input",), ask="q2", offers=True, simple=True)
    spoken = Spoken.parse(voice.render(flow, output, action_url=ACTION, style=STYLE))
    assert spoken.says == (
        "Silence.",
        "Español: 9.",
        "Q2? Press 1 for yes, 2 for no, or 3 if you are not sure.",
    )


def test_in_spanish_there_is_no_offer_of_a_language_without_a_key() -> None:
    """Only languages with a key are offered: English has none in the fixture, so a Spanish
    prompt offers nothing."""
    flow = tiny_flow()
    output = Output("es", notices=("no_input",), ask="q2", offers=True, simple=True)
    spoken = Spoken.parse(voice.render(flow, output, action_url=ACTION, style=STYLE))
    assert spoken.says == ("Silencio.", "¿P2? Oprima 1 para si, 2 para no, o 3 si no sabe.")


def test_the_nurse_offer_follows_the_first_question_so_it_does_not_delay_it() -> None:
    """With a nurse number, the nurse offer is said inside the gather after the first question
    (and after the notice of a language switch), never before it."""
    flow = tiny_flow()
    style = VoiceStyle(
        locales=STYLE.locales, voices=STYLE.voices, recognition=STYLE.recognition, nurse_number="+15550001111"
    )
    _, output = engine.start(flow, "voice", now=0)
    spoken = Spoken.parse(voice.render(flow, output, action_url=ACTION, style=style))
    assert spoken.says == (
        "Hello. Emergency? Hang up, call 911 now.",
        "Español: 9.",
        "Q1? Say or press 1 or 2.",
        "Nurse: press 0.",
    )
    later = Spoken.parse(voice.render(flow, Output("en", ask="q2"), action_url=ACTION, style=style))
    assert "Nurse: press 0." not in later.says


def test_a_question_listens_for_keys_and_speech_in_the_call_language_with_hints() -> None:
    """The gather takes one key or speech, recognised in the language's recognition locale (es-US)
    while the prompt is said by the es-MX voice in its own locale, hinted with that language's words."""
    flow = tiny_flow()
    assert voice.render(flow, Output("es", ask="q1"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>"
        f'<Gather action="{ACTION}" hints="si, no, no puedo respirar, me desmaye" input="dtmf speech" '
        f'language="es-US" method="POST" '
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


def test_emergency_outcome_is_spoken_with_the_instruction_repeated_then_hangs_up() -> None:
    """The spoken wording is used, the call-now sentence comes again at the end, and the call ends."""
    flow = tiny_flow()
    assert voice.render(flow, Output("en", outcome="urgent"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}Hang up, call {N911} now. E2.</Say>{SAY}Hang up, call {N911} now.</Say>"
        "<Hangup /></Response>"
    )


def test_other_outcomes_are_spoken_once_then_hang_up_without_links() -> None:
    """Non-emergency outcomes are said once; a booking link is never read aloud."""
    flow = tiny_flow(booking_url="https://b.example")
    assert voice.render(flow, Output("en", outcome="visit"), action_url=ACTION, style=STYLE) == (
        f"{HEAD}<Response>{SAY}See a provider. Expect tests. Net: call {N911} for red flags.</Say>"
        "<Hangup /></Response>"
    )


def test_safety_net_in_every_language_and_empty() -> None:
    """A failure is answered with the spoken safety net in each language and a hang-up."""
    assert voice.safety_net(tiny_flow(), style=STYLE) == (
        f"{HEAD}<Response>{SAY}Red flags: call {N911} now. Broken.</Say>"
        f"{SAY_ES}Alarma: llame al {N911} ahora. Falla.</Say><Hangup /></Response>"
    )
    assert voice.empty() == f"{HEAD}<Response />"


def test_a_language_without_a_named_voice_uses_the_locale_alone() -> None:
    """Without a configured voice name only the language is set, and Twilio picks its default voice."""
    style = VoiceStyle(locales={"en": "en-GB"}, voices={}, gather_timeout=5)
    assert style.say_attributes("en") == {"language": "en-GB"}


def test_speech_hints_are_words_and_phrases_as_people_say_them() -> None:
    """Hints come from the flow's text as written, not the matcher's folded forms: "heart attack",
    not "heart atack"; "all of a sudden", not "al of a suden"; "derrame", not "derame"; the answer
    words first, spelled with the accents the flow's own prose gives them ("sí", "no sé"); typing
    variants and texting forms ("breth", "swalow", "yse", "idk", "masomenos") are not hints."""
    flow = shipped_flow()
    english, spanish = (voice.hint_entries(flow, lang) for lang in ("en", "es"))
    for folded in (
        "heart atack",
        "al of a suden",
        "chek frozen",
        "can not breathe",
        "breth",
        "swalow",
        "yse",
        "idk",
    ):
        assert folded not in english
    for folded in ("derame", "socoro", "no se", "masomenos", "aveces", "ns", "arastra las palabras"):
        assert folded not in spanish
    assert {"yes", "no", "not sure", "heart attack", "all of a sudden", "can't breathe", "passed out"} <= set(
        english
    )
    assert {"sí", "no", "no sé", "para nada", "derrame", "no puedo respirar", "débil"} <= set(spanish)
    assert english.index("not sure") < english.index("heart attack")
    assert spanish.index("sí") == 0
    assert "no puedo respirar" not in english
    assert "can't breathe" not in spanish
    for entries in (english, spanish):
        assert len(entries) <= voice.MAX_HINTS
        assert all(len(e) <= voice.MAX_HINT_CHARS and "," not in e for e in entries)


def test_hints_keep_the_accents_a_flow_writes() -> None:
    """Whatever the flow provides is what the recogniser is told, accents and apostrophes kept; a
    phrase with a gap gives the words either side of it; only a slot's first alternative (the word
    itself, as the flow writes it) makes a phrase."""
    flow = shipped_flow()
    spanish = replace(
        flow.words["es"],
        emergency=(
            "ataque al corazón",
            "convulsión|convulsiones|convulcion",
            "se me durmió|duerme ... el brazo",
        ),
    )
    hints = voice.hint_entries(replace(flow, words={**flow.words, "es": spanish}), "es")
    assert {"ataque al corazón", "convulsión", "se me durmió", "el brazo"} <= set(hints)
    assert "convulcion" not in hints
    assert "se me duerme" not in hints


def test_a_speech_model_is_set_where_configured_with_a_timeout_in_seconds() -> None:
    """SPEECH_MODELS en=phone_call: the English gather names the model and ends speech after a
    whole number of seconds (Twilio refuses speechTimeout="auto" with a model, warning 13335); a
    language without a model lets Twilio pick, with "auto"."""
    flow = tiny_flow()
    style = VoiceStyle(
        locales=STYLE.locales,
        voices=STYLE.voices,
        recognition=STYLE.recognition,
        speech_models={"en": "phone_call"},
    )
    english = voice.render(flow, Output("en", ask="q1"), action_url=ACTION, style=style)
    spanish = voice.render(flow, Output("es", ask="q1"), action_url=ACTION, style=style)
    assert 'speechModel="phone_call"' in english
    assert 'speechTimeout="1"' in english
    assert "speechModel" not in spanish
    assert 'speechTimeout="auto"' in spanish


def test_the_emergency_number_is_said_digit_by_digit_wherever_it_is_configured() -> None:
    """With EMERGENCY_NUMBER=112 every spoken mention, in both languages, is a <say-as digits>."""
    bound = load_flow(SHIPPED).bind(emergency_number="112", booking_url=None)
    digits = '<say-as interpret-as="digits">112</say-as>'
    for lang in bound.languages:
        xml = voice.render(bound, Output(lang, outcome="emergency"), action_url=ACTION, style=STYLE)
        assert xml.count(digits) == 2, xml
        assert "112" not in xml.replace(digits, "")
        spoken = Spoken.parse(xml)
        assert spoken.says[-1] in ("Hang up and call 112 now.", "Cuelgue y llame al 112 ahora.")
