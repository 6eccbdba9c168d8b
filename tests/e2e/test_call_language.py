"""Issue 16 through the webhooks: the first question within 10 seconds of speech, Spanish by a key at
any question or by answering in Spanish, and a call on the previous flow finished on it after a deploy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.channels import speech_time
from ivr.core.session import decode
from ivr.simulator.twilio_sim import TwilioSimulator, parse_twiml, said
from ivr.store.keys import Keys
from tests.conftest import make_settings, serving
from tests.support import FIXTURES, OUR_NUMBER, SHIPPED, as_bytes, script, shipped_flow

FLOW = shipped_flow()
ORDER = [q for q, _ in script(FLOW, None)[0]]  # the questions met answering no to each
CALLER = "+15557650016"
SPANISH = FLOW.call_languages["es"]
# The limits, in words at 150 a minute (each digit of 911 a word): 10 s and 15 s.
ENGLISH_WORDS = 25
SPANISH_WORDS = 37


def _question(qid: str, lang: str) -> str:
    return FLOW.questions[qid].wording.text(lang, voice=True)


def _emergency(lang: str) -> str:
    return FLOW.outcomes["emergency"].wording.parts(lang, voice=True)[0]


async def test_an_english_caller_hears_the_first_question_within_10_seconds(twilio: TwilioSimulator) -> None:
    """From the TwiML of the call's first webhook: the 911 instruction is said first, as a plain
    <Say> before the <Gather> (a key pressed during it answers nothing); the first question begins
    within 25 words, 10 seconds at 150 words a minute."""
    opening = await twilio.call(caller=CALLER, to=OUR_NUMBER).start()
    root = parse_twiml(opening.xml)
    first = next(iter(root))
    assert first.tag == "Say"
    assert said(first).startswith("In an emergency, hang up and call 911 now.")
    assert [(d.get("interpret-as"), d.text) for d in first.iter("say-as")] == [("digits", "911")]
    gather = root.find("Gather")
    assert gather is not None
    assert next(s.text for s in gather.iter("Say")) == SPANISH.offer
    words = speech_time.words_before(opening.says, _question(ORDER[0], "en"))
    assert words is not None
    assert words <= ENGLISH_WORDS
    assert speech_time.seconds(words) <= 10


async def test_with_a_nurse_the_first_question_still_comes_within_10_seconds(redis: Redis) -> None:
    """The nurse offer is said after the first question, so it does not delay it."""
    async with serving(make_settings(nurse_number="+15550123999")) as twilio:
        opening = await twilio.call(caller=CALLER, to=OUR_NUMBER).start()
    words = speech_time.words_before(opening.says, _question(ORDER[0], "en"))
    assert words is not None
    assert speech_time.seconds(words) <= 10
    assert opening.says[-1] == "To talk with a nurse, press 0 at any question."


async def test_a_spanish_caller_reaches_the_first_question_in_spanish_within_15_seconds(
    twilio: TwilioSimulator,
) -> None:
    """English up to the end of the offer, then 9, then the Spanish notice: the first question in
    Spanish begins within 37 words, 15 seconds; it is said by the Spanish voice and heard in Spanish."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    opening = await call.start()
    offered = speech_time.words_through(opening.says, SPANISH.offer)
    switched = await call.press(SPANISH.key)
    after = speech_time.words_before(switched.says, _question(ORDER[0], "es"))
    assert offered is not None
    assert after is not None
    assert offered + after <= SPANISH_WORDS
    assert speech_time.seconds(offered + after) <= 15
    assert switched.says[0] == FLOW.texts["intro"].text("es", voice=True)
    assert "Polly.Joanna" not in switched.xml
    assert 'language="es-US"' in switched.xml


async def test_si_to_the_first_english_question_gets_the_spanish_emergency_outcome_at_once(
    twilio: TwilioSimulator,
) -> None:
    """The issue's example: "sí" said to the first English question is a yes in Spanish; the very
    next reply is the Spanish emergency outcome, and the call ends."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.say("Sí.", confidence=0.55)
    assert spoken.says[0].startswith(_emergency("es"))
    assert spoken.says[-1] == _emergency("es")
    assert spoken.hangup


@pytest.mark.parametrize("said", ["un poco", "creo que sí", "a veces"])
async def test_a_spanish_partial_yes_to_a_later_english_question_is_the_spanish_emergency(
    twilio: TwilioSimulator, said: str
) -> None:
    """After English noes, a partial yes in Spanish to a red flag: the Spanish emergency outcome next."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for _ in range(3):
        await call.press("2")
    spoken = await call.say(said, confidence=0.9)
    assert spoken.says[0].startswith(_emergency("es"))
    assert spoken.hangup


async def test_a_spanish_no_keeps_the_answer_and_goes_on_in_spanish(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """ "Para nada" to an English question: the Spanish 911 notice and the next question in Spanish;
    the no is recorded; the rest of the call is in Spanish."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.say("Para nada.", confidence=0.9)
    assert spoken.says == (
        FLOW.texts["intro"].text("es", voice=True),
        f"{_question(ORDER[1], 'es')} {FLOW.texts['voice_answer_hint'].text('es', voice=True)}",
    )
    [key] = await redis.keys("ivr:{*}:s")
    session = decode(as_bytes(await redis.get(key)))
    assert (session.lang, session.answers) == ("es", ((ORDER[0], False),))
    spoken = await call.silence()
    assert spoken.says[0] == FLOW.texts["no_input"].text("es", voice=True)


async def test_no_se_to_an_english_question_is_doubt_answered_in_spanish(twilio: TwilioSimulator) -> None:
    """ "No sé" is not an English no: it is doubt about a red flag, told in Spanish to call 911."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.say("No sé.", confidence=0.8)
    assert spoken.says[0].startswith(FLOW.outcomes["not_sure"].wording.parts("es", voice=True)[0])
    assert spoken.hangup


async def test_a_faint_spanish_no_is_confirmed_by_keypad_in_spanish(twilio: TwilioSimulator) -> None:
    """A Spanish no heard faintly: the Spanish notice, then the same question in Spanish, by keypad."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.say("Nel.", confidence=0.3)
    assert spoken.says[0] == FLOW.texts["intro"].text("es", voice=True)
    assert (
        spoken.says[1] == f"{_question(ORDER[0], 'es')} {FLOW.texts['confirm_by_key'].text('es', voice=True)}"
    )
    assert 'input="dtmf"' in spoken.xml
    spoken = await call.press("2")
    assert spoken.says[-1].startswith(_question(ORDER[1], "es"))


@pytest.mark.parametrize("at", [1, 5, len(ORDER) - 2])
async def test_the_spanish_key_at_any_question_repeats_it_in_spanish_and_is_never_an_answer(
    twilio: TwilioSimulator, redis: Redis, at: int
) -> None:
    """9 at a later question: the Spanish notice, then that same question in Spanish; the noes so far
    are kept and 9 is not taken as an answer; a 1 then gets the Spanish outcome of that question."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    for _ in range(at):
        await call.press("2")
    spoken = await call.press(SPANISH.key)
    assert spoken.says[0] == FLOW.texts["intro"].text("es", voice=True)
    assert spoken.says[1].startswith(_question(ORDER[at], "es"))
    [key] = await redis.keys("ivr:{*}:s")
    session = decode(as_bytes(await redis.get(key)))
    assert session.answers == tuple((q, False) for q in ORDER[:at])
    assert session.node == ORDER[at]
    spoken = await call.press("1")
    outcome = FLOW.questions[ORDER[at]].yes
    assert spoken.says[0].startswith(FLOW.outcomes[outcome].wording.parts("es", voice=True)[0])


@pytest.mark.parametrize(
    ("what", "notice"), [("silence", "no_input"), ("5", "wrong_key"), ("what?", "not_understood")]
)
async def test_an_english_re_prompt_offers_spanish_again(
    twilio: TwilioSimulator, what: str, notice: str
) -> None:
    """Silence, a wrong key or words that are no answer: what went wrong, the offer, the question."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.press("2")
    if what == "silence":
        spoken = await call.silence()
    elif what.isdigit():
        spoken = await call.press(what)
    else:
        spoken = await call.say(what, confidence=0.9)
    assert spoken.says[:2] == (FLOW.texts[notice].text("en", voice=True), SPANISH.offer)
    assert spoken.says[2].startswith(_question(ORDER[1], "en"))


async def test_a_replayed_prompt_offers_spanish_too(twilio: TwilioSimulator) -> None:
    """A late copy of an answer already taken gets the current prompt again, with the offer."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    opening = await call.start()
    await call.press("2")
    replay = await call.press("2", prompt=opening)
    assert replay.says == (
        SPANISH.offer,
        f"{_question(ORDER[1], 'en')} Say yes or press 1. Say no or press 2. Not sure? Press 3.",
    )


async def test_a_call_on_the_previous_flow_finishes_on_it_after_a_deploy(
    tmp_path: Path, redis: Redis
) -> None:
    """A call the previous version (flow 3.1.0, written before the answer model) left mid-triage:
    after the deploy it goes on with that flow's next question, read forward on load, and the
    answer model of the flow served now reads its spoken replies; a new call is on the new flow."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    shutil.copy(FIXTURES / "muscle-weakness-3.1.0.toml", old / SHIPPED.name)
    shutil.copytree(SHIPPED.parent / "answers", new / "answers")
    shutil.copy(SHIPPED, new / SHIPPED.name)
    async with serving(make_settings(flows_dir=old)) as before:
        call = before.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        second = await call.press("2")
    key = Keys("v", call.sid).session
    stored = decode(as_bytes(await redis.get(key)))
    assert stored.node == "swallowing"
    assert "choking on food, drinks or saliva" in second.says[0]

    async with serving(make_settings(flows_dir=new)) as after:
        call.twilio = after
        third = await call.say("nope, she eats fine", confidence=0.9)
        assert third.says[0].startswith("Have you passed out or lost consciousness")
        session = decode(as_bytes(await redis.get(key)))
        assert (session.node, session.digest) == ("fainting", stored.digest)
        assert session.digest != FLOW.digest
        assert session.how[-1].startswith("m")  # read by the answer model
        fresh = await after.call(caller=CALLER, to=OUR_NUMBER).start()
    assert fresh.says[1] == SPANISH.offer
    assert fresh.says[2].startswith(FLOW.questions[FLOW.start].wording.text("en", voice=True))
