"""Issue 17 through the webhooks: emergencies described in free text, contradictory answers and help
requests, on texts and calls, in English and Spanish; and the true negatives that must stay negative."""

from __future__ import annotations

import pytest

from ivr.simulator.twilio_sim import Call, TwilioSimulator
from tests.support import OUR_NUMBER, no_path, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
LAST_RED_FLAG = [q for q in ORDER if FLOW.questions[q].red_flag][-1]
PERSON = "+15550170000"

# Each sent as the answer to the first question; each must get the emergency outcome at once.
ENGLISH_EMERGENCIES = [
    "no I can't breathe",
    "No i cant breathe",
    "no he passed out",
    "I dont know I cant breathe",
    "she isn't breathing",
    "he wont wake up",
    "my arm is numb",
    "can't walk",
    "can't stand up",
    "confused",
    "cant talk",
]
SPANISH_EMERGENCIES = [
    "no no puedo respirar",
    "no se no puedo respirar",
    "no responde",
    "no despierta",
    "tengo la cara chueca",
    "no puedo caminar",
    "se me durmió el brazo",
]
EMERGENCY_FIRST = {
    "en": ("Call 911 now.", "Hang up and call 911 now."),
    "es": ("Llame al 911 ahora.", "Cuelgue y llame al 911 ahora."),
}


def _question(qid: str, lang: str, *, voice: bool) -> str:
    return FLOW.questions[qid].wording.text(lang, voice=voice)


async def _texting(twilio: TwilioSimulator, lang: str, answered_no: int = 0) -> None:
    await twilio.text("hola" if lang == "es" else "hello", sender=PERSON, to=OUR_NUMBER)
    for _ in range(answered_no):
        await twilio.text("no", sender=PERSON, to=OUR_NUMBER)


async def _calling(twilio: TwilioSimulator, lang: str, answered_no: int = 0) -> Call:
    call = twilio.call(caller=PERSON, to=OUR_NUMBER)
    await call.start()
    if lang != FLOW.default_language:
        await call.press(FLOW.call_languages[lang].key)
    for _ in range(answered_no):
        await call.press("2")
    return call


CASES = [("en", t) for t in ENGLISH_EMERGENCIES] + [("es", t) for t in SPANISH_EMERGENCIES]


@pytest.mark.parametrize(("lang", "text"), CASES)
async def test_an_emergency_in_free_text_gets_the_emergency_outcome_by_text(
    twilio: TwilioSimulator, lang: str, text: str
) -> None:
    """Texted as the answer to the first question: call 911 now, in the very next reply."""
    await _texting(twilio, lang)
    [reply] = await twilio.text(text, sender=PERSON, to=OUR_NUMBER)
    assert reply.startswith(EMERGENCY_FIRST[lang][0])


@pytest.mark.parametrize(("lang", "text"), CASES)
async def test_an_emergency_in_free_text_gets_the_emergency_outcome_on_a_call(
    twilio: TwilioSimulator, lang: str, text: str
) -> None:
    """Said (faintly, even) as the answer to the first question: hang up and call 911 now."""
    call = await _calling(twilio, lang)
    spoken = await call.say(text, confidence=0.4)
    assert spoken.says[0].startswith(EMERGENCY_FIRST[lang][1])
    assert spoken.hangup


@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_no_it_is_to_the_fainting_question_is_not_a_no(twilio: TwilioSimulator, channel: str) -> None:
    """ "no it is" contradicts itself: never the next question; the reply to doubt, 911 first."""
    before = ORDER.index("fainting")
    if channel == "sms":
        await _texting(twilio, "en", before)
        reply = (await twilio.text("no it is", sender=PERSON, to=OUR_NUMBER))[0]
    else:
        call = await _calling(twilio, "en", before)
        reply = (await call.say("No, it is.", confidence=0.95)).says[0]
    assert reply.startswith(FLOW.unsure_outcome().wording.parts("en", voice=channel == "voice")[0])
    assert "call 911 now" in reply.split(".")[0]
    assert _question(ORDER[before + 1], "en", voice=channel == "voice") not in reply


@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_no_i_do_to_the_last_red_flag_after_all_noes_is_not_the_appointment(
    twilio: TwilioSimulator, channel: str
) -> None:
    """After a no to every other red flag, "No I do" to the last one never gives the appointment advice."""
    before = ORDER.index(LAST_RED_FLAG)
    if channel == "sms":
        await _texting(twilio, "en", before)
        replies = await twilio.text("No I do", sender=PERSON, to=OUR_NUMBER)
        text = "\n".join(replies)
    else:
        call = await _calling(twilio, "en", before)
        text = " ".join((await call.say("No, I do.", confidence=0.95)).says)
    assert "not sure, " in text
    assert "call 911 now" in text
    assert "make an appointment" not in text
    assert _question(ORDER[before + 1], "en", voice=channel == "voice") not in text


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "help me"), ("es", "ayúdame"), ("en", "Help me please"), ("es", "ayuda")]
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_a_request_for_help_gets_the_help_text_911_first_then_the_question(
    twilio: TwilioSimulator, lang: str, text: str, channel: str
) -> None:
    """ "help me" or "ayúdame" at a question: the help text, which starts with the 911 instruction,
    then the same question again; nothing is counted as an answer."""
    voice = channel == "voice"
    help_text = FLOW.texts["help"].text(lang, voice=voice)
    if channel == "sms":
        await _texting(twilio, lang, 1)
        replies = await twilio.text(text, sender=PERSON, to=OUR_NUMBER)
        said = replies
    else:
        call = await _calling(twilio, lang, 1)
        said = list((await call.say(text, confidence=0.8)).says)
    # A text packs the help and the question into one message where they fit; a call says them apart.
    assert said[0].split("\n")[0] == help_text
    assert "911" in said[0].split(".")[0]
    assert said[-1].split("\n")[-1].startswith(_question(ORDER[1], lang, voice=voice))


async def test_help_as_a_first_text_starts_the_conversation_with_the_help_text(
    twilio: TwilioSimulator,
) -> None:
    """ "ayúdame" as the very first text: the Spanish help text (911 first), then the first question."""
    replies = await twilio.text("ayúdame", sender=PERSON, to=OUR_NUMBER)
    assert replies[0].startswith("Si es una emergencia, llame al 911 ahora.")
    assert replies[-1].split("\n")[-1].startswith(_question(ORDER[0], "es", voice=False))


TRUE_NEGATIVES = [
    ("en", "breathing", "I'm not having trouble breathing"),
    ("en", "breathing", "I'm not having any trouble breathing"),
    ("en", "breathing", "no trouble breathing"),
    ("en", "fainting", "I have not passed out"),
    ("en", "fainting", "never fainted"),
    ("es", "fainting", "no me desmayé"),
    ("es", "fainting", "no se ha desmayado"),
    ("es", "breathing", "no tengo dificultad para respirar"),
    ("es", "breathing", "sin dificultad para respirar"),
]


@pytest.mark.parametrize(("lang", "question", "text"), TRUE_NEGATIVES)
@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_a_negated_red_flag_is_a_no_to_its_question_not_an_emergency(
    twilio: TwilioSimulator, lang: str, question: str, text: str, channel: str
) -> None:
    """Negation still protects true negatives: said to its own question, it is a no and the next
    question follows."""
    before = ORDER.index(question)
    following = _question(ORDER[before + 1], lang, voice=channel == "voice")
    if channel == "sms":
        await _texting(twilio, lang, before)
        [reply] = await twilio.text(text, sender=PERSON, to=OUR_NUMBER)
    else:
        call = await _calling(twilio, lang, before)
        reply = (await call.say(text, confidence=0.95)).says[0]
    assert reply.startswith(following)
