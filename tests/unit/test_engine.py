"""The pure engine: starting, answering, re-asking, languages, speech, emergency words, and ending."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.core import engine
from ivr.core.answers import Answer
from ivr.core.engine import SILENCE, Input, InputKind, Output, Policy
from ivr.core.flow import Flow
from ivr.core.session import Channel, Session
from ivr.core.words import Said
from tests.support import path_to, red_flags, shipped_flow, tiny_flow

FLOW = shipped_flow()
ORDER = FLOW.question_order()
SPANISH = Input("keys", FLOW.call_languages["es"].key)


def _walk(
    flow: Flow, replies: list[Input], channel: Channel = "sms", opening: Input | None = None
) -> tuple[Session, list[Output]]:
    session, output = engine.start(flow, channel, now=100, opening=opening)
    outputs = [output]
    for reply in replies:
        session, output = engine.step(flow, session, reply)
        outputs.append(output)
    return session, outputs


def test_a_text_conversation_starts_with_the_intro_then_the_first_question() -> None:
    """The first output says the intro (with the emergency notice), then asks the first question."""
    session, output = engine.start(FLOW, "sms", now=100, opening=Input("text", "hi"))
    assert output == Output("en", notices=("intro",), ask=FLOW.start)
    assert session.node == FLOW.start
    assert session.digest == FLOW.digest
    assert session.started == 100


def test_a_call_says_the_notice_then_offers_the_other_languages_with_the_first_question() -> None:
    """On a call there is no menu: the notice in the first language, then the first question with
    the key for each other language offered."""
    session, output = engine.start(FLOW, "voice", now=0)
    assert output == Output("en", notices=("intro",), ask=FLOW.start, offers=True)
    assert session.node == FLOW.start
    assert session.lang == "en"


@pytest.mark.parametrize("flag", red_flags(FLOW))
@pytest.mark.parametrize(
    ("channel", "lang", "yes", "no", "prelude"),
    [
        ("sms", "en", Input("text", "yes"), Input("text", "no"), []),
        ("sms", "es", Input("text", "Sí"), Input("text", "no"), [Input("text", "español")]),
        ("voice", "en", Input("keys", "1"), Input("keys", "2"), []),
        ("voice", "es", Input("speech", "Sí.", 0.3), Input("keys", "2"), [SPANISH]),
        ("voice", "es", Input("speech", "un poco", 0.3), Input("speech", "para nada", 0.9), []),
    ],
)
def test_a_yes_to_any_red_flag_ends_in_the_emergency_outcome_at_once(
    flag: str, channel: Channel, lang: str, yes: Input, no: Input, prelude: list[Input]
) -> None:
    """Whatever came before, a yes to a red flag makes the very next output the emergency outcome."""
    session, outputs = _walk(FLOW, [*prelude, *[no] * ORDER.index(flag), yes], channel)
    assert outputs[-1] == Output(lang, outcome="emergency")
    assert FLOW.outcomes["emergency"].kind == "emergency"
    assert session.ended
    assert session.answers[-1] == (flag, True)
    assert all(o.outcome is None for o in outputs[:-1])


def _no_path(flow: Flow, node: str) -> list[str]:
    """The questions met answering no to each, from `node`."""
    path: list[str] = []
    while node in flow.questions:
        path.append(node)
        node = flow.questions[node].no
    return path


def test_no_to_everything_gives_the_appointment_outcome() -> None:
    """Answering no to every question (weakness of long standing) asks the red flags and the signs
    for the emergency department once each, twelve questions, then advises an appointment."""
    session, outputs = _walk(FLOW, [Input("text", "no")] * 12)
    asked = [o.ask for o in outputs if o.ask]
    assert asked == _no_path(FLOW, FLOW.start) == ORDER[:12]
    assert outputs[-1] == Output("en", outcome="appointment")
    assert session.answers == tuple((q, False) for q in ORDER[:12])


def test_new_weakness_with_no_sign_asks_the_same_day_signs_then_advises_an_appointment_soon() -> None:
    """Weakness of the past month: after the gate, the signs of a fall, dark urine and the
    same-day signs, then an appointment within days."""
    replies = [Input("text", "yes" if q == "recent" else "no") for q in ORDER[:12]]
    rest = _no_path(FLOW, FLOW.questions["recent"].yes)
    session, outputs = _walk(FLOW, [*replies, *[Input("text", "no")] * len(rest)])
    assert [o.ask for o in outputs if o.ask] == [*ORDER[:12], *rest]
    assert outputs[-1] == Output("en", outcome="appointment_soon")
    assert session.ended


def test_an_unclear_text_is_asked_again_then_the_next_ends_with_the_safety_outcome() -> None:
    """SMS: one re-prompt repeating the question; a second unclear reply in a row ends safely."""
    _, outputs = _walk(FLOW, [Input("text", "purple"), Input("text", "what?")])
    assert outputs[1] == Output("en", notices=("not_understood",), ask=FLOW.start, simple=True)
    assert outputs[2] == Output("en", outcome="unclear")
    assert FLOW.outcomes["unclear"].kind == "safety"


def test_a_clear_answer_resets_the_unclear_count() -> None:
    """Only unclear replies in a row count; a clear answer in between starts the count again."""
    session, outputs = _walk(FLOW, [Input("text", "hmm"), Input("text", "no"), Input("text", "hmm")])
    assert outputs[-1] == Output("en", notices=("not_understood",), ask=ORDER[1], simple=True)
    assert session.misses == 1


def test_silence_on_a_call_repeats_the_question_twice_then_ends_safely() -> None:
    """Voice: two repeats after silence, and the third silence gives the safety outcome."""
    _, outputs = _walk(FLOW, [SILENCE, SILENCE, SILENCE], "voice")
    assert outputs[1] == Output("en", notices=("no_input",), ask=FLOW.start, offers=True, simple=True)
    assert outputs[2] == Output("en", notices=("no_input",), ask=FLOW.start, offers=True, simple=True)
    assert outputs[3] == Output("en", outcome="unclear")


def test_a_wrong_key_is_said_and_counted_like_an_unclear_answer() -> None:
    """Voice: a key other than 1 or 2 is named as wrong, and shares the count with silence."""
    _, outputs = _walk(FLOW, [Input("keys", "7"), SILENCE, Input("keys", "#")], "voice")
    assert outputs[1] == Output("en", notices=("wrong_key",), ask=FLOW.start, offers=True, simple=True)
    assert outputs[2] == Output("en", notices=("no_input",), ask=FLOW.start, offers=True, simple=True)
    assert outputs[3] == Output("en", outcome="unclear")


# ---- speech ------------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["Yes.", "yeah", "Yes, it is.", "Sí.", "si"])
def test_a_spoken_yes_is_believed_at_any_confidence(said: str) -> None:
    """A spoken yes to a red flag gives the emergency outcome even when heard with low confidence."""
    _, outputs = _walk(FLOW, [Input("speech", said, 0.1)], "voice")
    assert outputs[-1].outcome == "emergency"


@pytest.mark.parametrize("confidence", [None, 0.0, 0.59])
def test_an_unsure_spoken_no_to_a_red_flag_is_confirmed_by_keypad(confidence: float | None) -> None:
    """A spoken no with missing or low confidence is not trusted: the keypad must confirm it."""
    session, outputs = _walk(FLOW, [Input("speech", "No.", confidence)], "voice")
    assert outputs[-1] == Output("en", ask=FLOW.start, keys_only=True)
    assert session.confirm
    assert session.answers == ()
    confirmed, output = engine.step(FLOW, session, Input("keys", "2"))
    assert output == Output("en", ask=ORDER[1])
    assert confirmed.answers == ((FLOW.start, False),)
    assert not confirmed.confirm


def test_while_confirming_only_a_key_or_a_yes_counts() -> None:
    """Awaiting the keypad, another spoken no is a miss, a spoken yes is an emergency, a key decides."""
    session, _ = _walk(FLOW, [Input("speech", "no", 0.2)], "voice")
    again, output = engine.step(FLOW, session, Input("speech", "no", 0.99))
    assert output == Output(
        "en", notices=("not_understood",), ask=FLOW.start, keys_only=True, offers=True, simple=True
    )
    _, output = engine.step(FLOW, again, Input("speech", "yes", 0.2))
    assert output.outcome == "emergency"
    _, output = engine.step(FLOW, again, Input("keys", "1"))
    assert output.outcome == "emergency"


def test_a_confident_spoken_no_is_accepted() -> None:
    """At or above the threshold a spoken no moves on like a pressed 2."""
    _, outputs = _walk(FLOW, [Input("speech", "No.", 0.6)], "voice")
    assert outputs[-1] == Output("en", ask=ORDER[1])


def test_the_confidence_threshold_is_a_policy() -> None:
    """The threshold comes from configuration: at 0.0 every spoken no is accepted."""
    session, _ = engine.start(FLOW, "voice", now=0)
    _, output = engine.step(FLOW, session, Input("speech", "no", None), Policy(min_speech_confidence=0.0))
    assert output == Output("en", ask=FLOW.start, keys_only=True)  # unknown confidence: still confirmed
    _, output = engine.step(FLOW, session, Input("speech", "no", 0.1), Policy(min_speech_confidence=0.0))
    assert output == Output("en", ask=ORDER[1])


@pytest.mark.parametrize("said", ["purple", "", "hmm"])
def test_an_unclear_spoken_answer_is_never_a_no(said: str) -> None:
    """Anything that is not an answer is asked again; it never counts as a no to a red flag."""
    session, outputs = _walk(FLOW, [Input("speech", said, 0.95)], "voice")
    assert outputs[-1] == Output("en", notices=("not_understood",), ask=FLOW.start, offers=True, simple=True)
    assert session.answers == ()


@pytest.mark.parametrize(
    ("said", "lang"),
    [("what did you say", "en"), ("sorry, can you repeat that", "en"), ("perdón, no le escuché bien", "es")],
)
def test_a_caller_who_did_not_hear_gets_the_help_text_and_the_question_again(said: str, lang: str) -> None:
    """Asking for the question again is no answer: the help text (911 first), then the question."""
    session, outputs = _walk(FLOW, [Input("speech", said, 0.95)], "voice")
    assert outputs[-1].notices == ("help",)
    assert outputs[-1].ask == FLOW.start
    assert session.answers == ()


# ---- emergency words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I can't breathe",
        "my face is drooping",
        "I think it's a stroke",
        "call 911",
        "he passed out",
        "No, I can't breathe",
        "no fever but I passed out",
        "No puedo respirar",
        "creo que es un derrame",
        "se desmayó",
        "tiene la cara caída",
        "me falta el aire",
    ],
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_words_describing_an_emergency_end_the_triage_at_once(text: str, channel: Channel) -> None:
    """Whatever question is pending, free text describing an emergency gets the emergency outcome."""
    kind: InputKind = "text" if channel == "sms" else "speech"
    session, outputs = _walk(FLOW, [Input(kind, "no", 0.9), Input(kind, text, 0.9)], channel)
    assert outputs[-1].outcome == "emergency"
    assert session.ended


@pytest.mark.parametrize(
    "text",
    [
        "no trouble breathing",
        "I don't have trouble breathing",
        "I have not passed out",
        "never fainted",
        "no tengo dificultad para respirar",
        "no me desmayé",
        "sin dificultad para respirar",
    ],
)
def test_negated_emergency_words_do_not_count(text: str) -> None:
    """A negated phrase is not an emergency: said to the first question (breathing), a denial of
    it is a no, and a denial of another sign is no answer to it, asked again."""
    _, outputs = _walk(FLOW, [Input("text", text)])
    assert outputs[-1].outcome is None
    breathing = "breath" in text or "respirar" in text
    assert outputs[-1].ask == (FLOW.questions[FLOW.start].no if breathing else FLOW.start)


@pytest.mark.parametrize("text", ["I can't breathe", "no puedo respirar", "911"])
def test_a_first_text_describing_an_emergency_is_answered_with_the_emergency_outcome(text: str) -> None:
    """Even the opening text is read: an emergency gets the call-911 outcome as the first reply."""
    session, output = engine.start(FLOW, "sms", now=0, opening=Input("text", text))
    assert output.outcome == "emergency"
    assert session.ended


# ---- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("hola", "es"),
        ("Hola, tengo debilidad en los brazos", "es"),
        ("ESPAÑOL", "es"),
        ("hi", "en"),
        ("help me", "en"),
        ("?", "en"),
    ],
)
def test_the_first_text_picks_the_language(text: str, lang: str) -> None:
    """A Spanish keyword or a clearly Spanish first text starts in Spanish; anything else in English."""
    session, output = engine.start(FLOW, "sms", now=0, opening=Input("text", text))
    assert session.lang == output.lang == lang


def test_a_language_keyword_switches_at_any_time_and_repeats_the_notice_and_question() -> None:
    """Mid-conversation, ESPAÑOL switches to Spanish without using up an answer, then back with ENGLISH."""
    session, _ = _walk(FLOW, [Input("text", "no")], opening=Input("text", "hi"))
    session, output = engine.step(FLOW, session, Input("text", "Español por favor"))
    assert output == Output("es", notices=("intro",), ask=ORDER[1])
    assert session.answers == ((ORDER[0], False),)
    session, output = engine.step(FLOW, session, Input("text", "english"))
    assert output == Output("en", notices=("intro",), ask=ORDER[1])


@pytest.mark.parametrize("at", range(3))
def test_the_language_key_switches_a_call_at_any_question_and_is_never_an_answer(at: int) -> None:
    """On a call, 9 at any question: the Spanish notice, then the same question in Spanish; the
    answers so far are kept, and the key itself is not an answer (nor a miss)."""
    session, _ = _walk(FLOW, [Input("keys", "2")] * at, "voice")
    after, output = engine.step(FLOW, session, SPANISH)
    assert output == Output("es", notices=("intro",), ask=ORDER[at])
    assert after.lang == "es"
    assert after.answers == session.answers
    assert after.heard == session.heard
    assert engine.heard(FLOW, session, after) is None
    _, output = engine.step(FLOW, after, Input("keys", "1"))
    assert output == Output("es", outcome="emergency")


def test_the_language_key_settles_a_pending_keypad_confirmation_in_the_new_language() -> None:
    """A faint spoken no awaiting the keypad, then 9: the question in Spanish, answered afresh."""
    session, _ = _walk(FLOW, [Input("speech", "no", 0.2)], "voice")
    after, output = engine.step(FLOW, session, SPANISH)
    assert output == Output("es", notices=("intro",), ask=FLOW.start)
    assert not after.confirm
    assert after.answers == ()


def test_the_language_key_is_an_ordinary_wrong_key_in_a_text() -> None:
    """Texts have no language keys: a 9 there is not an answer, and the language stays."""
    session, output = engine.step(FLOW, engine.start(FLOW, "sms", now=0)[0], Input("text", "9"))
    assert output == Output("en", notices=("not_understood",), ask=FLOW.start, simple=True)
    assert session.lang == "en"


@pytest.mark.parametrize(
    ("said", "output"),
    [
        ("Sí.", Output("es", outcome="emergency")),
        ("un poco", Output("es", outcome="emergency")),
        ("creo que sí", Output("es", outcome="emergency")),
        ("No sé.", Output("es", outcome="not_sure")),
        ("Para nada.", Output("es", notices=("intro",), ask=ORDER[1])),
        ("nel", Output("es", notices=("intro",), ask=ORDER[1])),
    ],
)
def test_an_answer_in_spanish_to_an_english_question_on_a_call_switches_to_spanish(
    said: str, output: Output
) -> None:
    """Said only in Spanish words, the answer stands and the call goes on in Spanish: a yes or
    doubt is the Spanish outcome at once; a no, the Spanish notice and the next question."""
    session, got = engine.step(FLOW, engine.start(FLOW, "voice", now=0)[0], Input("speech", said, 0.9))
    assert got == output
    assert session.lang == "es"


@pytest.mark.parametrize("said", ["no", "No.", "yes", "not really", "2"])
def test_an_answer_that_english_knows_keeps_the_call_in_english(said: str) -> None:
    """ "No" is English as well as Spanish: only an answer that English does not know switches."""
    session, output = engine.step(FLOW, engine.start(FLOW, "voice", now=0)[0], Input("speech", said, 0.9))
    assert session.lang == output.lang == "en"


def test_a_caller_who_chose_spanish_keeps_it_when_answering_in_english() -> None:
    """Only a call still in the language it started in follows the caller's words: after 9, an
    English "no" is taken as a no and the questions stay in Spanish."""
    session, _ = _walk(FLOW, [SPANISH, Input("speech", "nope", 0.9)], "voice")
    assert session.lang == "es"
    assert session.answers == ((FLOW.start, False),)


def test_an_answer_in_spanish_to_an_english_text_is_kept_and_the_language_stays() -> None:
    """Texts keep their language rule (a keyword, or the first text): "sí" is a yes, in English."""
    _, output = engine.step(FLOW, engine.start(FLOW, "sms", now=0)[0], Input("text", "sí"))
    assert output == Output("en", outcome="emergency")


# ---- limits and purity ---------------------------------------------------------------------------


def test_an_ended_conversation_takes_no_more_replies() -> None:
    """The engine refuses to step past an outcome; callers start a new conversation instead."""
    session, _ = _walk(FLOW, [Input("text", "yes")])
    with pytest.raises(ValueError, match="ended"):
        engine.step(FLOW, session, Input("text", "no"))


def test_a_session_on_a_node_the_flow_lacks_ends_safely() -> None:
    """A session whose question is missing from its flow gets the safety outcome, not an error."""
    session, _ = engine.start(FLOW, "sms", now=0)
    session, output = engine.step(FLOW, replace(session, node="gone"), Input("text", "no"))
    assert output == Output("en", outcome="unclear")
    assert session.ended


def test_the_turn_cap_ends_any_conversation() -> None:
    """Even a conversation that somehow keeps going is stopped by max_turns with the safety outcome."""
    flow = tiny_flow()
    session, _ = engine.start(flow, "sms", now=0)
    session, output = engine.step(flow, replace(session, turns=flow.limits.max_turns), Input("text", "no"))
    assert output.outcome == "unsure"


def test_steps_are_pure() -> None:
    """The same session and reply always give the same result, and the input session is unchanged."""
    session, _ = engine.start(FLOW, "sms", now=5)
    before = session
    assert engine.step(FLOW, session, Input("text", "no")) == engine.step(FLOW, session, Input("text", "no"))
    assert session == before


@pytest.mark.parametrize(
    ("reply", "taken_as"),
    [
        (Input("text", "yes"), "yes"),
        (Input("text", "no"), "no"),
        (Input("text", "purple"), "unclear"),
        (Input("keys", "7"), "unclear"),
        (Input("speech", "no", 0.2), "unconfirmed"),
        (Input("text", "I don't know"), "unsure"),
        (Input("text", "kinda"), "yes"),
    ],
)
def test_heard_says_how_a_reply_to_the_pending_question_was_taken(reply: Input, taken_as: str) -> None:
    """For the metrics of where people struggle: the question that was pending, and the reply's class."""
    before, _ = engine.start(FLOW, "sms", now=100, opening=Input("text", "hi"))
    after, _ = engine.step(FLOW, before, reply)
    heard = engine.heard(FLOW, before, after)
    assert heard is not None
    assert (heard.question, heard.taken) == (FLOW.start, taken_as)
    assert heard.decided_by in ("key", "rule", "model")


def test_heard_says_how_each_reply_was_decided() -> None:
    """A key by the key, an exact answer and emergency words by rule, anything else by the answer
    model with its probability (m and two digits)."""
    before, _ = engine.start(FLOW, "voice", now=100)
    for reply, how in (
        (Input("keys", "1"), "k"),
        (Input("speech", "no", 0.9), "r"),
        (Input("speech", "I can't breathe", 0.9), "r"),
    ):
        after, _ = engine.step(FLOW, before, reply)
        heard = engine.heard(FLOW, before, after)
        assert heard is not None
        assert heard.how == how
    after, _ = engine.step(FLOW, before, Input("speech", "she's been huffing and puffing all day", 0.9))
    heard = engine.heard(FLOW, before, after)
    assert heard is not None
    assert heard.decided_by == "model"
    assert heard.how[1:].isdigit()


def test_heard_is_nothing_when_the_reply_was_not_an_answer() -> None:
    """A language switch and a request for help answer no question; words of the very sign asked
    about are a yes to it, and another sign's an emergency, both by rule."""
    before, _ = engine.start(FLOW, "sms", now=100, opening=Input("text", "hi"))
    for reply in (Input("text", "español"), Input("text", "help me")):
        after, _ = engine.step(FLOW, before, reply)
        assert engine.heard(FLOW, before, after) is None
    after, _ = engine.step(FLOW, before, Input("text", "I can't breathe"))
    assert engine.heard(FLOW, before, after) == engine.Heard(FLOW.start, "yes", "r")
    after, _ = engine.step(FLOW, before, Input("text", "she passed out"))
    assert engine.heard(FLOW, before, after) == engine.Heard(FLOW.start, "emergency", "r")


# ---- unsure, help, and how replies were taken -------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "lang", "said", "prelude"),
    [
        ("sms", "en", Input("text", "not sure"), []),
        ("sms", "es", Input("text", "no sé"), [Input("text", "español")]),
        ("voice", "en", Input("speech", "I'm not sure.", 0.2), []),
        ("voice", "es", Input("speech", "Tal vez.", 0.9), [SPANISH]),
        ("voice", "es", Input("speech", "No sé.", 0.9), []),
    ],
)
def test_unsure_about_a_red_flag_ends_with_the_unsure_outcome_at_once(
    channel: Channel, lang: str, said: Input, prelude: list[Input]
) -> None:
    """Never a bare re-ask, never the appointment: the reply to doubt, whose first words are call 911."""
    session, outputs = _walk(FLOW, [*prelude, said], channel)
    assert outputs[-1] == Output(lang, outcome=FLOW.unsure_outcome().id)
    assert FLOW.unsure_outcome().kind == "unsure"
    assert session.ended
    assert session.heard[-1] == (FLOW.start, "u")


@pytest.mark.parametrize(("question", "kind"), [("worse", "er_now"), ("urine", "er_now"), ("fever", "today")])
def test_unsure_about_a_lesser_sign_takes_its_yes_way(question: str, kind: str) -> None:
    """A sign for the emergency department or for care today is not a red flag: "not sure" there
    leads where yes does, the more careful way."""
    path = [*ORDER[: ORDER.index("recent") + 1], *_no_path(FLOW, "fall")]
    replies = [Input("text", "yes" if q == "recent" else "no") for q in path[: path.index(question)]]
    session, outputs = _walk(FLOW, [*replies, Input("text", "not sure")])
    assert outputs[-1] == Output("en", outcome=FLOW.questions[question].yes)
    assert FLOW.outcomes[outputs[-1].outcome or ""].kind == kind
    assert session.heard[-1] == (question, "u")


def test_a_flow_without_an_unsure_outcome_ends_doubt_with_the_safety_outcome() -> None:
    """Flows written before unsure had an outcome of its own fall back to their safety outcome."""
    flow = tiny_flow()
    assert not flow.has_kind("unsure")
    _, outputs = _walk(flow, [Input("text", "not sure")])
    assert outputs[-1] == Output("en", outcome=flow.outcome_of_kind("safety").id)


def test_while_confirming_by_keypad_a_spoken_unsure_is_acted_on() -> None:
    """Awaiting the keypad after a faint spoken no, "I'm not sure" ends with the unsure outcome."""
    session, _ = _walk(FLOW, [Input("speech", "no", 0.2)], "voice")
    _, output = engine.step(FLOW, session, Input("speech", "I'm not sure", 0.9))
    assert output == Output("en", outcome=FLOW.unsure_outcome().id)


@pytest.mark.parametrize(
    ("said", "lang"),
    [
        (Input("text", "help me"), "en"),
        (Input("text", "ayúdame"), "es"),
        (Input("speech", "Help.", 0.5), "en"),
    ],
)
def test_a_request_for_help_gets_the_help_text_and_the_question_again(said: Input, lang: str) -> None:
    """Help is not an answer: the help text in the language asked in, the pending question again,
    and no miss counted."""
    session, _ = _walk(FLOW, [Input("text", "no")])
    after, output = engine.step(FLOW, session, said)
    assert output == Output(lang, notices=("help",), ask=ORDER[1])
    assert after.misses == session.misses
    assert after.heard == session.heard
    assert engine.heard(FLOW, session, after) is None


def test_help_as_the_first_text_takes_the_place_of_the_intro() -> None:
    """The help text starts with the 911 instruction, so it can open a conversation."""
    session, output = engine.start(FLOW, "sms", now=0, opening=Input("text", "ayudame por favor"))
    assert output == Output("es", notices=("help",), ask=FLOW.start)
    assert session.node == FLOW.start


def test_the_session_keeps_how_every_reply_was_taken() -> None:
    """Misses, faint noes and answers, in order, per question: what audit records write."""
    replies = [
        SILENCE,
        Input("keys", "7"),
        Input("keys", "2"),
        Input("speech", "no", 0.1),
        Input("keys", "2"),
    ]
    session, _ = _walk(FLOW, [*replies, Input("speech", "maybe", 0.9)], "voice")
    assert session.heard == (
        (ORDER[0], "x"),
        (ORDER[0], "x"),
        (ORDER[0], "n"),
        (ORDER[1], "c"),
        (ORDER[1], "n"),
        (ORDER[2], "u"),
    )


def _at(question: str, reply: str, lang: str = "en", channel: Channel = "sms") -> Output:
    """What the line replies to `reply` at `question`, reached by yes and no in `lang`."""
    kind: InputKind = "text" if channel == "sms" else "speech"
    yes, no = ("sí", "no") if lang == "es" else ("yes", "no")
    opening = Input(kind, "hola" if lang == "es" else "hello", 0.9)
    answers = [Input(kind, yes if said_yes else no, 0.9) for _, said_yes in path_to(FLOW, question)]
    _, outputs = _walk(FLOW, [*answers, Input(kind, reply, 0.9)], channel, opening=opening)
    assert outputs[-2].ask == question
    return outputs[-1]


@pytest.mark.parametrize(
    ("question", "reply", "lang"),
    [
        ("breathing", "eh sí mi esposo respira como con mucho esfuerzo", "es"),
        ("breathing", "um yes she gets winded walking to the car", "en"),
        ("spine", "eh sí le duele la espalda desde que se cayó", "es"),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_reply_that_opens_with_yes_to_a_911_question_is_a_yes(
    question: str, reply: str, lang: str, channel: Channel
) -> None:
    """Whatever follows an opening yes (unless a no), the sign asked about is there: the emergency
    outcome, not the question again, nor the emergency department for the fall it mentions."""
    assert _at(question, reply, lang, channel).outcome == "emergency"


def test_a_yes_with_a_no_in_it_is_not_taken_for_a_plain_yes() -> None:
    """ "yes no I don't know" holds doubt: doubt about a red flag is acted on, the same outcome as
    a yes would be, but by the doubt rule (the unsure outcome where the flow has one)."""
    assert _at("breathing", "yes no i dont know").outcome == FLOW.unsure_outcome().id


def test_doubt_at_the_head_question_after_a_fall_calls_911() -> None:
    """Not knowing whether the head was hurt in the fall, as after an unwitnessed one, is acted on."""
    assert _at("spine", "no sé, estaba sola cuando se cayó", "es").outcome == "emergency"


@pytest.mark.parametrize(
    ("question", "reply", "lang", "outcome"),
    [
        ("fever", "Tiene 39 y se le torció la boca", "es", "emergency"),
        ("urine", "no pero ahorita mi mamá no contesta está como desmayada", "es", "emergency"),
        ("onset", "no it was slow but now she's not really answering me, just staring", "en", "emergency"),
        ("fall", "no me caí... me corté las muñecas", "es", "crisis"),
        ("breathing", "i took all my pills i want it to be over", "en", "crisis"),
        ("bladder", "para q sigo viviendo si ya ni controlo mi cuerpo", "es", "crisis"),
    ],
)
def test_signs_and_crises_in_everyday_words(question: str, reply: str, lang: str, outcome: str) -> None:
    assert _at(question, reply, lang).outcome == outcome


def test_not_understanding_the_line_is_not_a_speech_sign() -> None:
    """ "no le entiendo" (I don't understand you) asks for Spanish; "no se le entiende" (nobody can
    understand her) is the speech sign."""
    assert _at("sugar", "Español x favor, no le entiendo").outcome is None
    assert _at("breathing", "no, pero no se le entiende nada cuando habla", "es").outcome == "emergency"


def test_a_yes_whose_no_negates_a_verb_is_still_a_yes() -> None:
    """ "Sí, no llega al baño a tiempo" (yes, she can't reach the toilet in time) to the bladder
    question: the no negates a verb, the answer is yes, and the emergency department now."""
    assert _at("bladder", "Si, no llega al baño a tiempo, esto es nuevo", "es").outcome == "er_now"


def test_a_reply_opening_with_not_sure_is_doubt() -> None:
    """ "no sé, acabo de llegar a la casa" (I don't know, I just got home): doubt, which at a
    same-day question leads where its yes does."""
    assert _at("fluids", "no sé, acabo de llegar a la casa", "es").outcome == FLOW.questions["fluids"].yes


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_reply_that_opens_with_yes_is_never_a_no(channel: Channel) -> None:
    """At any question, an opening yes with nothing set against it is not turned into a no by the
    details that follow ("nothing stays down"): the yes way, not the next question."""
    reply = "yes since this morning nothing stays down not even ice chips"
    assert _at("fluids", reply, "en", channel).outcome == FLOW.questions["fluids"].yes
    # For over a day, with bad weakness: more than the yes (the emergency department), never a no.
    longer = "yes for over a day now nothing stays down not even ice chips and he's really weak and dizzy"
    assert _at("fluids", longer, "en", channel).outcome == FLOW.urgent_outcome().id


def test_an_opening_yes_with_a_but_is_left_to_the_model() -> None:
    """ "Yes, diabetic, but the sugar is fine" answers the second half of the question with a no:
    the rule stands aside and the model reads it."""
    said = Said.of("yes diabetic but sugars have been good")
    assert FLOW.reader.read(said, "en", question="sugar").how == "model"


@pytest.mark.parametrize(
    ("reply", "lang"), [("gracias doctora", "es"), ("ok thank you", "en"), ("bueno pues", "es")]
)
def test_filler_alone_is_not_an_answer(reply: str, lang: str) -> None:
    """Thanks or a greeting word alone answer nothing: asked again, by rule."""
    reading = FLOW.reader.read(Said.of(reply), lang, question="sugar")
    assert (reading.answer, reading.how) == (Answer.UNCLEAR, "rule")


@pytest.mark.parametrize("reply", ["no, ya tiene años", "no ya tiene meses"])
def test_a_filler_word_is_not_taken_for_a_yes(reply: str) -> None:
    """ "Ya" (already) is not the yes some use it for when it follows a no: "no, ya tiene años" is a
    no to the weakness being new, not a no and a yes at once."""
    assert _at("recent", reply, "es").outcome == FLOW.questions["recent"].no


@pytest.mark.parametrize(
    ("reply", "lang"),
    [
        ("what is this number", "en"),
        ("how do i answer this", "en"),
        ("how does this work", "en"),
        ("que es esto", "es"),
        ("como funciona esto?", "es"),
    ],
)
def test_asking_what_the_line_is_gets_the_help_text(reply: str, lang: str) -> None:
    """Asking what the line is, or how to answer it, gets the help text and the question again."""
    output = _at("breathing", reply, lang)
    assert "help" in output.notices
    assert output.ask == "breathing"


def test_my_spanish_is_bad_asks_for_english() -> None:
    """Naming the language one does not read well asks for the other one."""
    output = _at("vision", "english plz my spanish is bad", "en")
    assert output.lang == "en"
    assert "intro" in output.notices


@pytest.mark.parametrize(("reply", "lang"), [("didnt look", "en"), ("no me fijé", "es")])
def test_not_having_looked_is_doubt(reply: str, lang: str) -> None:
    """ "Didn't look" is not a no: doubt, which at the urine question goes the yes way."""
    assert _at("urine", reply, lang).outcome == FLOW.questions["urine"].yes
