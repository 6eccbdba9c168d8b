"""The pure engine: starting, answering, re-asking, and ending."""

from __future__ import annotations

import pytest

from ivr import engine
from ivr.engine import SILENCE, Output, Reply
from ivr.flow import Flow
from ivr.session import Channel, Session
from tests.support import red_flags, shipped_flow, tiny_flow

FLOW = shipped_flow()


def _walk(flow: Flow, replies: list[Reply], channel: Channel = "sms") -> tuple[Session, list[Output]]:
    session, output = engine.start(flow, channel, now=100)
    outputs = [output]
    for reply in replies:
        session, output = engine.step(flow, session, reply)
        outputs.append(output)
    return session, outputs


def test_start_gives_the_intro_before_the_first_question() -> None:
    """The first output says the intro (with the emergency notice), then asks the first question."""
    session, output = engine.start(FLOW, "sms", now=100)
    assert output == Output("en", notices=("intro",), ask=FLOW.start)
    assert session.node == FLOW.start
    assert session.digest == FLOW.digest
    assert session.started == 100


@pytest.mark.parametrize("flag", red_flags(FLOW))
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_yes_to_any_red_flag_ends_in_the_emergency_outcome_at_once(flag: str, channel: Channel) -> None:
    """Whatever came before, a yes to a red flag makes the very next output the emergency outcome."""
    order = FLOW.question_order()
    yes = Reply("keys", "1") if channel == "voice" else Reply("text", "yes")
    no = Reply("keys", "2") if channel == "voice" else Reply("text", "no")
    replies = [no] * order.index(flag) + [yes]
    session, outputs = _walk(FLOW, replies, channel)
    assert outputs[-1] == Output("en", outcome="emergency")
    assert FLOW.outcomes["emergency"].kind == "emergency"
    assert session.ended
    assert session.answers[-1] == (flag, True)
    assert all(o.outcome is None for o in outputs[:-1])


def test_no_to_everything_gives_the_appointment_outcome() -> None:
    """Answering no to every red flag asks each question once, then advises an appointment."""
    session, outputs = _walk(FLOW, [Reply("text", "no")] * len(FLOW.questions))
    asked = [o.ask for o in outputs if o.ask]
    assert asked == FLOW.question_order()
    assert outputs[-1] == Output("en", outcome="appointment")
    assert session.answers == tuple((q, False) for q in FLOW.question_order())


def test_an_unclear_text_is_asked_again_then_the_next_ends_with_the_safety_outcome() -> None:
    """SMS: one re-prompt repeating the question; a second unclear reply in a row ends safely."""
    _, outputs = _walk(FLOW, [Reply("text", "maybe"), Reply("text", "what?")])
    assert outputs[1] == Output("en", notices=("not_understood",), ask=FLOW.start)
    assert outputs[2] == Output("en", outcome="unclear")
    assert FLOW.outcomes["unclear"].kind == "safety"


def test_a_clear_answer_resets_the_unclear_count() -> None:
    """Only unclear replies in a row count; a clear answer in between starts the count again."""
    replies = [Reply("text", "hmm"), Reply("text", "no"), Reply("text", "hmm")]
    session, outputs = _walk(FLOW, replies)
    second = FLOW.question_order()[1]
    assert outputs[-1] == Output("en", notices=("not_understood",), ask=second)
    assert session.misses == 1


def test_silence_on_a_call_repeats_the_question_twice_then_ends_safely() -> None:
    """Voice: two repeats after silence, and the third silence gives the safety outcome."""
    _, outputs = _walk(FLOW, [SILENCE, SILENCE, SILENCE], "voice")
    assert outputs[1] == Output("en", notices=("no_input",), ask=FLOW.start)
    assert outputs[2] == Output("en", notices=("no_input",), ask=FLOW.start)
    assert outputs[3] == Output("en", outcome="unclear")


def test_a_wrong_key_is_said_and_counted_like_an_unclear_answer() -> None:
    """Voice: a key other than 1 or 2 is named as wrong, and shares the count with silence."""
    _, outputs = _walk(FLOW, [Reply("keys", "7"), SILENCE, Reply("keys", "#")], "voice")
    assert outputs[1] == Output("en", notices=("wrong_key",), ask=FLOW.start)
    assert outputs[2] == Output("en", notices=("no_input",), ask=FLOW.start)
    assert outputs[3] == Output("en", outcome="unclear")


def test_an_ended_conversation_takes_no_more_replies() -> None:
    """The engine refuses to step past an outcome; callers start a new conversation instead."""
    session, _ = _walk(FLOW, [Reply("text", "yes")])
    with pytest.raises(ValueError, match="ended"):
        engine.step(FLOW, session, Reply("text", "no"))


def test_a_session_on_a_node_the_flow_lacks_ends_safely() -> None:
    """A session whose question is missing from its flow gets the safety outcome, not an error."""
    session, _ = engine.start(FLOW, "sms", now=0)
    session, output = engine.step(FLOW, session.evolve(node="gone"), Reply("text", "no"))
    assert output == Output("en", outcome="unclear")
    assert session.ended


def test_the_turn_cap_ends_any_conversation() -> None:
    """Even a flow that never ends a conversation is stopped by max_turns with the safety outcome."""
    flow = tiny_flow()
    session, _ = engine.start(flow, "sms", now=0)
    session = session.evolve(turns=flow.limits.max_turns)
    session, output = engine.step(flow, session, Reply("text", "no"))
    assert output.outcome == "unsure"


def test_steps_are_pure() -> None:
    """The same session and reply always give the same result, and the input session is unchanged."""
    session, _ = engine.start(FLOW, "sms", now=5)
    before = session
    first = engine.step(FLOW, session, Reply("text", "no"))
    second = engine.step(FLOW, session, Reply("text", "no"))
    assert first == second
    assert session == before


def test_start_falls_back_to_the_default_language() -> None:
    """An unknown language asks in the flow's first language rather than failing."""
    session, output = engine.start(FLOW, "sms", now=0, lang="xx")
    assert session.lang == output.lang == FLOW.default_language
