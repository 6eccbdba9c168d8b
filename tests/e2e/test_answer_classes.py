"""Issue 12 through the webhooks: whole conversations for each class of answer, on texts and calls
(keys and speech), in English and Spanish, from the first message to the outcome."""

from __future__ import annotations

import pytest

from ivr.core.flow import Flow
from ivr.simulator.twilio_sim import Call, TwilioSimulator
from tests.support import OUR_NUMBER, red_flags, script, shipped_flow

FLOW = shipped_flow()
ORDER = [q for q, _ in script(FLOW, None)[0]]  # the questions met answering no to each
RED_FLAGS = red_flags(FLOW)
PERSON = "+15550120000"

# What people say, per language: an everyday no, a partial yes, doubt, and something that is not an answer.
SAYS = {
    "en": {"no": "not really", "yes": "a little bit", "unsure": "I'm not sure", "unclear": "what?"},
    "es": {"no": "para nada", "yes": "un poquito", "unsure": "no sé", "unclear": "¿qué?"},
}


class Person:
    """Someone texting or calling the line in one language: says things and reads or hears replies."""

    def __init__(self, twilio: TwilioSimulator, channel: str, lang: str) -> None:
        self.twilio = twilio
        self.channel = channel
        self.lang = lang
        self.call: Call | None = None

    async def begin(self) -> str:
        if self.channel == "sms":
            return "\n".join(
                await self.twilio.text("hola" if self.lang == "es" else "hello", sender=PERSON, to=OUR_NUMBER)
            )
        self.call = self.twilio.call(caller=PERSON, to=OUR_NUMBER)
        spoken = await self.call.start()
        if self.lang != FLOW.default_language:
            spoken = await self.call.press(FLOW.call_languages[self.lang].key)
        return " ".join(spoken.says)

    async def say(self, words: str) -> str:
        if self.call is None:
            return "\n".join(await self.twilio.text(words, sender=PERSON, to=OUR_NUMBER))
        return " ".join((await self.call.say(words, confidence=0.9)).says)

    def asked(self, reply: str, question: str) -> bool:
        return FLOW.questions[question].wording.text(self.lang, voice=self.call is not None) in reply

    def told(self, reply: str, flow: Flow, outcome: str) -> bool:
        return reply.startswith(
            flow.outcomes[outcome].wording.parts(self.lang, voice=self.call is not None)[0]
        )


CHANNELS = [(channel, lang) for channel in ("sms", "voice") for lang in ("en", "es")]


@pytest.mark.parametrize(("channel", "lang"), CHANNELS)
async def test_an_everyday_no_to_every_question_ends_with_the_appointment_never_a_false_alarm(
    twilio: TwilioSimulator, channel: str, lang: str
) -> None:
    """ "not really" / "para nada" to every question walks each one in order to the appointment
    advice (for long-standing weakness: the no to the gate ends it)."""
    person = Person(twilio, channel, lang)
    reply = await person.begin()
    for question in ORDER:
        assert person.asked(reply, question)
        reply = await person.say(SAYS[lang]["no"])
    assert person.told(reply, FLOW, "appointment")


@pytest.mark.parametrize(("channel", "lang"), CHANNELS)
@pytest.mark.parametrize("at", [0, 4, len(RED_FLAGS) - 1])
async def test_a_partial_yes_to_a_red_flag_gets_the_emergency_outcome_next(
    twilio: TwilioSimulator, channel: str, lang: str, at: int
) -> None:
    """After noes, "a little bit" / "un poquito" to a red flag: the very next reply says call 911 now;
    the red flag is never asked again."""
    person = Person(twilio, channel, lang)
    await person.begin()
    for _ in range(at):
        await person.say(SAYS[lang]["no"])
    reply = await person.say(SAYS[lang]["yes"])
    assert person.told(reply, FLOW, "emergency")
    assert not person.asked(reply, ORDER[at])


@pytest.mark.parametrize(("channel", "lang"), CHANNELS)
async def test_doubt_about_a_red_flag_is_a_reason_to_act(
    twilio: TwilioSimulator, channel: str, lang: str
) -> None:
    """ "I'm not sure" / "no sé": the very next reply starts by saying to call 911 if not sure, lists the
    red flags, and gives no appointment advice and no question."""
    person = Person(twilio, channel, lang)
    await person.begin()
    await person.say(SAYS[lang]["no"])
    reply = await person.say(SAYS[lang]["unsure"])
    assert person.told(reply, FLOW, FLOW.unsure_outcome().id)
    assert "911" in reply.split(".")[0]
    assert "?" not in reply
    assert "appointment" not in reply
    assert "cita" not in reply


@pytest.mark.parametrize(("channel", "lang"), CHANNELS)
async def test_what_is_not_an_answer_is_asked_again_once_saying_how_then_the_safety_outcome(
    twilio: TwilioSimulator, channel: str, lang: str
) -> None:
    """A reply that answers nothing: asked again with the simplest way to answer (numbers by text,
    keys on a call); on a call twice, by text once; then the safety outcome (911 and the red flags
    first)."""
    person = Person(twilio, channel, lang)
    await person.begin()
    retries = FLOW.limits.sms_retries if channel == "sms" else FLOW.limits.voice_retries
    hint = FLOW.texts["sms_answer_hint_simple" if channel == "sms" else "voice_answer_hint_simple"].text(
        lang, voice=channel == "voice"
    )
    for _ in range(retries):
        reply = await person.say(SAYS[lang]["unclear"])
        assert person.asked(reply, ORDER[0])
        assert hint in reply
    reply = await person.say(SAYS[lang]["unclear"])
    assert person.told(reply, FLOW, FLOW.outcome_of_kind("safety").id)


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_a_faint_spoken_no_is_still_confirmed_by_keypad_and_a_faint_partial_yes_believed(
    twilio: TwilioSimulator, lang: str
) -> None:
    """Today's confidence rules are kept: a low-confidence everyday no waits for the keypad; a
    low-confidence partial yes is a yes."""
    person = Person(twilio, "voice", lang)
    await person.begin()
    assert person.call is not None
    spoken = await person.call.say(SAYS[lang]["no"], confidence=0.3)
    assert 'input="dtmf"' in spoken.xml
    assert person.asked(spoken.text, ORDER[0])
    spoken = await person.call.press("2")
    assert person.asked(spoken.text, ORDER[1])
    spoken = await person.call.say(SAYS[lang]["yes"], confidence=0.2)
    assert person.told(spoken.text, FLOW, "emergency")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "a little"),
        ("en", "kind of"),
        ("en", "I think so"),
        ("en", "sort of, it came on this morning"),
        ("en", "yes my left leg wont move"),
        ("en", "yse"),
        ("es", "un poco"),
        ("es", "creo que sí"),
        ("es", "más o menos"),
        ("en", "A little bit."),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_the_issues_partial_yes_examples_get_the_emergency_outcome(
    twilio: TwilioSimulator, lang: str, words: str, channel: str
) -> None:
    """Each example from the issue, to "Is it hard to breathe...?": call 911 now, at once."""
    person = Person(twilio, channel, lang)
    await person.begin()
    assert person.told(await person.say(words), FLOW, "emergency")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "not sure"), ("en", "I don't know"), ("en", "no idea"), ("es", "no sé"), ("en", "I'm not sure")],
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_the_issues_unsure_examples_are_told_to_call_911_if_in_doubt(
    twilio: TwilioSimulator, lang: str, words: str, channel: str
) -> None:
    """Each example from the issue, to a red flag: never "Sorry, I did not understand"."""
    person = Person(twilio, channel, lang)
    await person.begin()
    assert person.told(await person.say(words), FLOW, FLOW.unsure_outcome().id)
