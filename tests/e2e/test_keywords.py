"""Carrier keywords: Twilio answers STOP, START and HELP itself, in either mode; the line records what
they did and stays silent (STOP ends everything until START)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import TwilioSimulator, messages_of, new_sid
from tests.conftest import make_settings, serving
from tests.support import OUR_NUMBER, shipped_flow

SENDER = "+15550401234"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


async def _raw_text(twilio: TwilioSimulator, body: str) -> str:
    response = await twilio.post(
        "/sms", {"From": SENDER, "To": OUR_NUMBER, "Body": body, "MessageSid": new_sid("SM")}
    )
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", "REVOKE", "optout", " Stop. "]
)
async def test_a_stop_word_ends_the_triage_and_silences_the_line(
    twilio: TwilioSimulator, redis: Redis, word: str
) -> None:
    """A whole-message opt-out word deletes the triage, records the opt-out, and gets an empty response;
    after that nothing is sent to the sender, whatever they text, short of opting back in or
    describing an emergency."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    assert await _raw_text(twilio, word) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert await redis.keys("ivr:{*}:s") == []
    assert len(await redis.keys("ivr:{*}:o")) == 1
    for body in ("hi", "no", "HELP", "y"):
        assert messages_of(await _raw_text(twilio, body)) == []
    assert await redis.keys("ivr:{*}:s") == []


@pytest.mark.parametrize("word", ["START", "unstop", "Yes", "YES."])
async def test_start_opts_back_in_silently_as_twilio_confirms_it(
    twilio: TwilioSimulator, redis: Redis, word: str
) -> None:
    """Without Advanced Opt-Out, START, UNSTOP or YES (Twilio's default opt-in words) after STOP:
    Twilio sends its own confirmation, so the line records the opt-in and answers with nothing;
    the next text starts a triage again, 911 first."""
    await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER)
    assert await _raw_text(twilio, word) == EMPTY
    assert await redis.keys("ivr:{*}:o") == []
    [first] = await twilio.text("hello", sender=SENDER, to=OUR_NUMBER)
    assert "If this is an emergency, call 911 now" in first


@pytest.mark.parametrize(
    ("opening", "word"), [("hi", "HELP"), ("hi", "info"), ("hola", "Help!"), ("hi", "START")]
)
async def test_help_and_start_keywords_get_no_second_reply_and_change_nothing(
    twilio: TwilioSimulator, opening: str, word: str
) -> None:
    """Without Advanced Opt-Out Twilio answers HELP, INFO and START itself (its default keyword
    handling): the line sends nothing, and the pending question, in the conversation's language,
    is still pending afterwards."""
    await twilio.text(opening, sender=SENDER, to=OUR_NUMBER)
    assert await _raw_text(twilio, word) == EMPTY
    flow = shipped_flow()
    lang = "es" if opening == "hola" else "en"
    [next_question] = await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    assert next_question.startswith(flow.questions[flow.question_order()[1]].wording.text(lang, voice=False))


async def test_help_in_words_is_still_answered_by_the_line(twilio: TwilioSimulator) -> None:
    """ "help me" is not a carrier keyword (Twilio acts only on a whole-message keyword): the line
    answers it with its help text, 911 first."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [help_text, _question] = await twilio.text("help me", sender=SENDER, to=OUR_NUMBER)
    assert help_text.startswith("If this is an emergency, call 911 now.")


async def test_opt_outs_are_counted(twilio: TwilioSimulator, app: FastAPI) -> None:
    """Opt-outs and opt-ins show in /metrics."""
    await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER)
    await twilio.text("START", sender=SENDER, to=OUR_NUMBER)
    metrics = (await twilio.client.get("/metrics")).text
    assert "ivr_opt_outs_total 1.0" in metrics
    assert "ivr_opt_ins_total 1.0" in metrics


EMERGENCY = "Call 911 now."


async def test_stop_yes_then_i_cant_breathe_reaches_the_emergency_outcome(twilio: TwilioSimulator) -> None:
    """The issue's conversation without Advanced Opt-Out: STOP, then YES (which Twilio takes as an
    opt-in and confirms), then "I can't breathe": the line is back on after YES, silently, and answers
    with the emergency."""
    assert await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER) == []
    assert await twilio.text("YES", sender=SENDER, to=OUR_NUMBER) == []
    [urgent] = await twilio.text("I can't breathe", sender=SENDER, to=OUR_NUMBER)
    assert urgent.startswith(EMERGENCY)


@pytest.mark.parametrize("advanced", [False, True])
async def test_stop_yes_then_i_cant_breathe_as_twilio_posts_it_with_advanced_opt_out(
    redis: Redis, advanced: bool
) -> None:
    """With Advanced Opt-Out Twilio posts OptOutType=STOP, then OptOutType=START for YES (having sent
    its own confirmations): the line follows it silently, and answers "I can't breathe" with the
    emergency, whether or not ADVANCED_OPT_OUT tells it that Twilio reports every keyword."""
    async with serving(make_settings(advanced_opt_out=advanced)) as twilio:
        assert await _raw_opt_out(twilio, "STOP", "STOP") == EMPTY
        assert await _raw_opt_out(twilio, "YES", "START") == EMPTY
        assert await redis.keys("ivr:{*}:o") == []
        [urgent] = await twilio.text("I can't breathe", sender=SENDER, to=OUR_NUMBER)
        metrics = (await twilio.client.get("/metrics")).text
    assert urgent.startswith(EMERGENCY)
    assert "ivr_opt_outs_total 1.0" in metrics
    assert "ivr_opt_ins_total 1.0" in metrics


async def _raw_opt_out(twilio: TwilioSimulator, body: str, opt_out_type: str) -> str:
    params = {"From": SENDER, "To": OUR_NUMBER, "Body": body, "MessageSid": new_sid("SM")}
    if opt_out_type:
        params["OptOutType"] = opt_out_type
    response = await twilio.post("/sms", params)
    assert response.status_code == 200
    return response.text


async def test_an_emergency_from_a_sender_who_opted_out_is_answered(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """After STOP, a text describing an emergency still gets the emergency outcome (if Twilio has
    the sender opted out it drops the reply; if it delivers, the person is not left in silence).
    The opt-out stands: the next ordinary text gets nothing."""
    await twilio.text("STOP", sender=SENDER, to=OUR_NUMBER)
    [urgent] = await twilio.text("se desmayo mi mama", sender=SENDER, to=OUR_NUMBER)
    assert urgent.startswith("Llame al 911 ahora.")
    assert len(await redis.keys("ivr:{*}:o")) == 1
    assert await twilio.text("hola", sender=SENDER, to=OUR_NUMBER) == []


async def test_help_and_start_answered_by_twilio_get_an_empty_reply(twilio: TwilioSimulator) -> None:
    """OptOutType=HELP or START on a keyword: Twilio has replied itself, so the line sends nothing
    and the pending question is still pending."""
    [first] = await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    assert "Is it hard to breathe" in first
    assert await _raw_opt_out(twilio, "HELP", "HELP") == EMPTY
    assert await _raw_opt_out(twilio, "info", "HELP") == EMPTY
    assert await _raw_opt_out(twilio, "START", "START") == EMPTY
    [next_question] = await twilio.text("no", sender=SENDER, to=OUR_NUMBER)
    flow = shipped_flow()
    assert next_question.startswith(flow.questions[flow.question_order()[1]].wording.text("en", voice=False))


async def test_yes_that_twilio_reports_as_an_opt_in_is_still_the_answer_to_a_red_flag(
    twilio: TwilioSimulator,
) -> None:
    """Mid-triage, Twilio (YES left among its opt-in keywords) posts YES with OptOutType=START:
    for a sender who had not opted out it is the answer, and a yes to a red flag is an emergency."""
    await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
    [urgent] = await twilio.text("YES", sender=SENDER, to=OUR_NUMBER, opt_out_type="START")
    assert urgent.startswith(EMERGENCY)


async def test_a_keyword_configured_at_twilio_opts_out_through_opt_out_type(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """A Spanish opt-out word added in Advanced Opt-Out (not in the line's list) is followed when
    Twilio reports it."""
    await twilio.text("hola", sender=SENDER, to=OUR_NUMBER)
    assert await _raw_opt_out(twilio, "ALTO", "STOP") == EMPTY
    assert len(await redis.keys("ivr:{*}:o")) == 1


async def test_with_advanced_opt_out_the_line_ignores_its_own_keyword_lists(redis: Redis) -> None:
    """ADVANCED_OPT_OUT=1: a word Twilio did not act on (no OptOutType; CANCEL removed from the
    service's list) opts nobody out; it is an ordinary text."""
    async with serving(make_settings(advanced_opt_out=True)) as twilio:
        await twilio.text("hi", sender=SENDER, to=OUR_NUMBER)
        [again] = await twilio.text("cancel", sender=SENDER, to=OUR_NUMBER)
    assert "Is it hard to breathe" in again
    assert await redis.keys("ivr:{*}:o") == []
