"""Whole text conversations through signed webhooks, on a real Redis."""

from __future__ import annotations

import asyncio
import re

import pytest
from redis.asyncio import Redis

from ivr.channels import sms
from ivr.core.engine import Output
from ivr.core.session import decode
from ivr.simulator.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER, as_bytes, no_path, red_flags, shipped_flow

FLOW = shipped_flow()
ORDER = no_path(FLOW)  # the questions met answering no to each
SENDER = "+15557654321"


def _question(qid: str) -> str:
    return FLOW.questions[qid].wording.text("en", voice=False)


async def test_first_text_whatever_it_says_starts_with_the_911_notice_then_the_first_question(
    twilio: TwilioSimulator,
) -> None:
    """Any first text opens a triage: one message, emergency notice first, then question one."""
    [reply] = await twilio.text("hello??", sender=SENDER, to=OUR_NUMBER)
    assert reply.index("call 911 now") < reply.index(_question(ORDER[0]))
    assert reply.endswith("Reply YES, NO or NOT SURE.")


async def test_no_to_everything_reaches_the_appointment_outcome(twilio: TwilioSimulator) -> None:
    """Noes in varied forms walk every question in order and end with appointment advice."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    answers = [
        "no",
        "N",
        "Nope.",
        " 2 ",
        "NO!",
        "n",
        "no thanks",
        "nah",
        "not really",
        "no, just tired",
        "👎",
    ]
    answers += ["nope"] * (len(ORDER) - len(answers))
    for i, answer in enumerate(answers):
        replies = await twilio.text(answer, sender=SENDER, to=OUR_NUMBER)
        if i + 1 < len(ORDER):
            assert replies == [f"{_question(ORDER[i + 1])} Reply YES, NO or NOT SURE."]
    assert len(replies) == len(sms.messages(FLOW, Output("en", outcome="appointment")))
    assert replies[0].startswith("Make an appointment with a healthcare provider")
    assert "reflexes" in replies[0]
    assert replies[1].startswith("Go to an emergency room now if the weakness gets worse")
    assert replies[-1].startswith("Call 911 now for any of these")


@pytest.mark.parametrize("flag", red_flags(FLOW))
async def test_a_yes_to_any_red_flag_gives_the_emergency_outcome_in_the_next_reply(
    twilio: TwilioSimulator, flag: str
) -> None:
    """After noes up to a red flag, a yes gets the call-911 outcome in the very next reply."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    for _ in range(ORDER.index(flag)):
        await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    [reply] = await twilio.text("Yes.", sender=SENDER, to=OUR_NUMBER)
    assert reply.startswith("Call 911 now.")
    assert "?" not in reply


async def test_two_unclear_replies_in_a_row_end_with_the_safety_outcome(twilio: TwilioSimulator) -> None:
    """The first reply that is not an answer repeats the question, saying how to answer; the second
    ends with the red flags and 911."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [again] = await twilio.text("what do you mean", sender=SENDER, to=OUR_NUMBER)
    assert (
        again
        == f"Sorry, I did not understand.\n{_question(ORDER[0])} Reply 1 for YES, 2 for NO, 3 if NOT SURE."
    )
    replies = await twilio.text("purple", sender=SENDER, to=OUR_NUMBER)
    assert replies[0].startswith("Call 911 now if you have any of these")
    assert "make an appointment" in replies[-1]


async def test_after_an_outcome_the_next_text_starts_afresh(twilio: TwilioSimulator, redis: Redis) -> None:
    """An ended triage leaves no session behind, and the next text begins again with the notice."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("yes", sender=SENDER, to=OUR_NUMBER)
    assert await redis.keys("ivr:{*}:s") == []
    [reply] = await twilio.text("yes", sender=SENDER, to=OUR_NUMBER)
    assert "If this is an emergency, call 911 now" in reply


async def test_two_senders_and_two_of_our_numbers_never_share_a_conversation(twilio: TwilioSimulator) -> None:
    """Conversations are keyed by our number and the sender together."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [other_sender] = await twilio.text("hi", sender="+15550000002", to=OUR_NUMBER)
    [other_line] = await twilio.text("hi", sender=SENDER, to="+15550000003")
    assert "If this is an emergency" in other_sender
    assert "If this is an emergency" in other_line
    [mine] = await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    assert _question(ORDER[1]) in mine


async def test_two_answers_arriving_at_once_are_both_applied_once(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Two texts for one conversation at the same moment: neither is lost, neither counts twice."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    replies = await asyncio.gather(
        twilio.text("no", sender=SENDER, to=OUR_NUMBER), twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    )
    asked = sorted(r[0].split(" Reply")[0] for r in replies)
    assert asked == sorted([_question(ORDER[1]), _question(ORDER[2])])
    [key] = await redis.keys("ivr:{*}:s")
    session = decode(await redis.get(key))  # type: ignore[arg-type]
    assert session.answers == ((ORDER[0], False), (ORDER[1], False))
    assert session.node == ORDER[2]


async def test_sessions_expire_and_hold_no_phone_number(twilio: TwilioSimulator, redis: Redis) -> None:
    """The session key has the SMS idle TTL; neither key nor value contains the numbers or words."""
    await twilio.text("my arm feels weak", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    keys = [as_bytes(k) for k in await redis.keys("ivr:{*}:s")]
    assert len(keys) == 1
    ttl = await redis.ttl(keys[0])
    assert 3500 < ttl <= 3600
    stored = keys[0] + as_bytes(await redis.get(keys[0]))
    for secret in (SENDER, SENDER.lstrip("+"), OUR_NUMBER.lstrip("+"), "arm feels weak"):
        assert secret.encode() not in stored
    assert re.fullmatch(rb"ivr:\{m:[A-Za-z0-9_-]{22}\}:s", keys[0])


async def test_a_spanish_first_text_runs_the_triage_in_spanish(twilio: TwilioSimulator) -> None:
    """ "Hola" starts in Spanish; sí to a red flag gets the Spanish call-911 outcome at once."""
    [first] = await twilio.text("Hola, tengo debilidad", sender=SENDER, to=OUR_NUMBER)
    assert "llame al 911 ahora" in first
    assert FLOW.questions[ORDER[0]].wording.text("es", voice=False) in first
    [second] = await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    assert second.startswith(FLOW.questions[ORDER[1]].wording.text("es", voice=False))
    [reply] = await twilio.text("Sí", sender=SENDER, to=OUR_NUMBER)
    assert reply.startswith("Llame al 911 ahora.")


async def test_switching_language_mid_triage_keeps_the_answers(twilio: TwilioSimulator) -> None:
    """ESPAÑOL repeats the notice and the pending question in Spanish; answers so far are kept."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    [switched] = await twilio.text("ESPAÑOL", sender=SENDER, to=OUR_NUMBER)
    assert "llame al 911 ahora" in switched
    assert FLOW.questions[ORDER[1]].wording.text("es", voice=False) in switched
    [back] = await twilio.text("English", sender=SENDER, to=OUR_NUMBER)
    assert _question(ORDER[1]) in back


@pytest.mark.parametrize("text", ["I can't breathe!", "No puedo respirar", "my face is drooping"])
async def test_emergency_words_in_any_text_give_the_emergency_outcome(
    twilio: TwilioSimulator, text: str
) -> None:
    """As the first text or mid-triage, words describing an emergency get call-911 at once."""
    [first] = await twilio.text(text, sender=SENDER, to=OUR_NUMBER)
    assert re.match(r"^(Call 911 now|Llame al 911 ahora)\.", first)
    await twilio.text("hello", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    [mid] = await twilio.text(text, sender=SENDER, to=OUR_NUMBER)
    assert re.match(r"^(Call 911 now|Llame al 911 ahora)\.", mid)


async def test_a_negated_emergency_phrase_is_not_an_emergency(twilio: TwilioSimulator) -> None:
    """'No trouble breathing', to the breathing question, is a no rather than an emergency."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [reply] = await twilio.text("no trouble breathing", sender=SENDER, to=OUR_NUMBER)
    assert reply.startswith(_question(ORDER[1]))
