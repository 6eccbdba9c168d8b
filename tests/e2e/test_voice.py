"""Whole phone calls through signed webhooks, on a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import Call, TwilioSimulator, parse_twiml
from tests.support import OUR_NUMBER, PUBLIC_BASE_URL, no_path, red_flags, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
CALLER = "+15557654321"


def _question(qid: str) -> str:
    return FLOW.questions[qid].wording.text("en", voice=True)


async def _english_call(twilio: TwilioSimulator) -> Call:
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    return call


async def test_a_call_opens_with_the_911_notice_then_the_first_question_with_the_spanish_offer(
    twilio: TwilioSimulator,
) -> None:
    """The 911 notice first, outside the gather; inside it the Spanish offer and the first question,
    which takes one key or speech; silence is redirected to the same action URL."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    spoken = await call.start()
    assert spoken.says == (
        "In an emergency, hang up and call 911 now. Calling for someone? Answer for them.",
        "Para español, oprima 9.",
        f"{_question(ORDER[0])} Say yes or press 1. Say no or press 2. Not sure? Press 3.",
    )
    assert spoken.gather_action is not None
    assert spoken.gather_action.startswith(f"{PUBLIC_BASE_URL}/voice/gather?t=")
    assert spoken.redirect == spoken.gather_action
    assert CALLER.lstrip("+") not in spoken.gather_action
    assert 'input="dtmf speech"' in spoken.xml
    assert 'numDigits="1"' in spoken.xml


async def test_pressing_2_to_everything_reaches_the_appointment_outcome(twilio: TwilioSimulator) -> None:
    """Each question is asked once; the last answer gets the appointment advice and a hang-up."""
    call = await _english_call(twilio)
    for i in range(len(ORDER)):
        spoken = await call.press("2")
        if i + 1 < len(ORDER):
            assert spoken.says[0].startswith(_question(ORDER[i + 1]))
    assert spoken.says[0].startswith(
        "Please make an appointment with a healthcare provider in the next few weeks"
    )
    assert spoken.hangup
    assert spoken.gather_action is None


@pytest.mark.parametrize("flag", red_flags(FLOW))
async def test_pressing_1_on_any_red_flag_gives_the_emergency_outcome_next(
    twilio: TwilioSimulator, flag: str
) -> None:
    """A yes on any red flag is answered at once with the call-911 instruction and a hang-up."""
    call = await _english_call(twilio)
    for _ in range(ORDER.index(flag)):
        await call.press("2")
    spoken = await call.press("1")
    assert spoken.says[0].startswith("Hang up and call 911 now.")
    assert spoken.says[-1] == "Hang up and call 911 now."
    assert spoken.hangup


async def test_silence_repeats_the_question_twice_then_gives_the_safety_outcome(
    twilio: TwilioSimulator,
) -> None:
    """Two silent repeats (offering Spanish again), then the red flags that mean call 911, then the
    call ends."""
    call = await _english_call(twilio)
    for _ in range(2):
        spoken = await call.silence()
        assert spoken.says == (
            "I did not hear an answer.",
            "Para español, oprima 9.",
            f"{_question(ORDER[0])} Press 1 for yes, 2 for no, or 3 if you are not sure.",
        )
    spoken = await call.silence()
    assert spoken.says[0].startswith("Call 911 now if you have any of these")
    assert spoken.hangup


async def test_a_wrong_key_is_named_and_counts_toward_the_limit(twilio: TwilioSimulator) -> None:
    """A wrong key is said to be wrong; mixed with silence, the third miss ends the call safely."""
    call = await _english_call(twilio)
    spoken = await call.press("5")
    assert spoken.says[0] == "Sorry, that key is not an option."
    await call.silence()
    spoken = await call.press("7")
    assert spoken.says[0].startswith("Call 911 now if you have any of these")


async def test_a_replayed_answer_does_not_advance_twice(twilio: TwilioSimulator) -> None:
    """Posting the same gather twice (same step token) moves the call on once only."""
    call = await _english_call(twilio)
    first = call.last
    second = await call.press("2")
    assert second.says[0].startswith(_question(ORDER[1]))
    replay = await call.press("2", prompt=first)
    assert replay.says[-1].startswith(_question(ORDER[1]))
    assert replay.gather_action == second.gather_action


async def test_the_same_answer_posted_twice_at_once_advances_once(twilio: TwilioSimulator) -> None:
    """Two identical gather posts at the same moment: one advances, the other is told the same question."""
    call = await _english_call(twilio)
    first = call.last
    results = await asyncio.gather(call.press("2", prompt=first), call.press("2", prompt=first))
    assert {r.says[-1].split(" Say yes")[0] for r in results} == {_question(ORDER[1])}
    spoken = await call.press("2", prompt=results[0])
    assert spoken.says[0].startswith(_question(ORDER[2]))


async def test_the_status_callback_removes_a_finished_call(twilio: TwilioSimulator, redis: Redis) -> None:
    """A completed call's session is deleted at once; until then it has the voice idle TTL."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    [key] = await redis.keys("ivr:{*}:s")
    assert key == f"ivr:{{v:{call.sid}}}:s".encode()
    assert 890 < await redis.ttl(key) <= 900
    response = await call.hang_up("completed")
    assert response.status_code == 200
    assert await redis.keys("ivr:{*}:s") == []


async def test_a_status_that_is_not_final_keeps_the_session(twilio: TwilioSimulator, redis: Redis) -> None:
    """An in-progress status callback changes nothing."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.hang_up("in-progress")
    assert len(await redis.keys("ivr:{*}:s")) == 1


async def test_a_spanish_caller_hears_the_questions_and_outcome_in_spanish(twilio: TwilioSimulator) -> None:
    """Pressing 9 runs the call in Spanish, spoken with the Spanish voice in its own locale (es-MX)
    and listened to in the Spanish recognition locale (es-US)."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.press("9")
    assert spoken.says[-1].startswith(FLOW.questions[ORDER[0]].wording.text("es", voice=True))
    assert '<Say language="es-MX" voice="Polly.Mia">' in spoken.xml
    assert "Polly.Joanna" not in spoken.xml
    assert 'input="dtmf speech" language="es-US"' in spoken.xml
    spoken = await call.say("Sí.", confidence=0.42)
    assert spoken.says[0].startswith("Cuelgue y llame al 911 ahora.")
    assert spoken.hangup


@pytest.mark.parametrize("said", ["Yes.", "yeah", "Yes, it is."])
async def test_a_spoken_yes_gives_the_emergency_outcome(twilio: TwilioSimulator, said: str) -> None:
    """Spoken yes, with Twilio's punctuation and case, is a yes."""
    call = await _english_call(twilio)
    spoken = await call.say(said, confidence=0.91)
    assert spoken.says[0].startswith("Hang up and call 911 now.")


async def test_an_unsure_spoken_no_is_confirmed_by_keypad(twilio: TwilioSimulator) -> None:
    """A spoken no with no Confidence is not trusted on a red flag: the caller is asked to press a key."""
    call = await _english_call(twilio)
    spoken = await call.say("No.", confidence=None)
    assert spoken.says[0].startswith(_question(ORDER[0]))
    assert "To be sure, please use the keypad." in spoken.says[0]
    assert 'input="dtmf"' in spoken.xml
    spoken = await call.press("2")
    assert spoken.says[0].startswith(_question(ORDER[1]))
    spoken = await call.say("no", confidence=0.97)
    assert spoken.says[0].startswith(_question(ORDER[2]))


async def test_spoken_emergency_words_end_the_call_with_the_emergency_outcome(
    twilio: TwilioSimulator,
) -> None:
    """Saying 'I can't breathe' at any question gets the emergency outcome at once."""
    call = await _english_call(twilio)
    await call.press("2")
    spoken = await call.say("I can't breathe", confidence=0.5)
    assert spoken.says[0].startswith("Hang up and call 911 now.")
    assert spoken.hangup


async def test_the_gather_hints_name_the_emergency_phrases_of_the_call_language(
    twilio: TwilioSimulator,
) -> None:
    """Through the webhook: a Spanish question's <Gather hints> carry the Spanish emergency phrases the
    engine listens for, as they are said (and not the English ones), and saying one gets the
    emergency outcome."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    spoken = await call.press("9")
    gather = parse_twiml(spoken.xml).find("Gather")
    assert gather is not None
    hints = (gather.get("hints") or "").split(", ")
    assert {"no puedo respirar", "me muero", "ataque cerebral", "veo doble"} <= set(hints)
    assert not {"can't breathe", "can t breathe", "heart attack"} & set(hints)
    spoken = await call.say("no puedo respirar", confidence=0.8)
    assert spoken.says[0].startswith("Cuelgue y llame al 911 ahora.")


async def test_the_gather_hints_real_phrases_and_names_its_speech_model(twilio: TwilioSimulator) -> None:
    """Through /voice with the default settings: the English gather says speechModel="phone_call"
    with a speech timeout in seconds, and hints phrases as said ("heart attack", "can't breathe",
    not the matcher's "heart atack"); after 9, the Spanish gather lets Twilio pick its model
    (speechTimeout="auto") and hints "no sé" and "derrame", not "no se" and "derame"."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    english = parse_twiml((await call.start()).xml).find("Gather")
    spanish = parse_twiml((await call.press("9")).xml).find("Gather")
    assert english is not None
    assert spanish is not None
    assert (english.get("speechModel"), english.get("speechTimeout")) == ("phone_call", "1")
    assert (spanish.get("speechModel"), spanish.get("speechTimeout")) == (None, "auto")
    english_hints = (english.get("hints") or "").split(", ")
    spanish_hints = (spanish.get("hints") or "").split(", ")
    assert {"heart attack", "can't breathe", "all of a sudden"} <= set(english_hints)
    assert not {"heart atack", "can not breathe", "al of a suden"} & set(english_hints)
    assert {"no sé", "derrame", "sí"} <= set(spanish_hints)
    assert not {"no se", "derame"} & set(spanish_hints)
