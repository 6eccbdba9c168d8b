"""Words that no question asks about, said at any question: signs for the emergency department
(`[words.<lang>].urgent`), stated plainly or after a no, send the person there; crisis words after a
loose negation ("ni nada") or of jumping still give the crisis outcome."""

from __future__ import annotations

import pytest

from ivr.core import engine
from ivr.core.answers import Answer
from ivr.core.emergency import examples
from ivr.core.engine import Input
from ivr.core.session import Session
from tests.support import shipped_flow, text_at

FLOW = shipped_flow()
GENERAL = [p for p in FLOW.urgent_phrases.patterns if p.question is None]
# Every way each general urgent phrase can be said with its gaps empty, with its language.
SAYINGS = sorted(
    {(" ".join(words), lang) for p in GENERAL for words in examples(p.slots) for lang in p.langs}
)
ER_NOW = FLOW.urgent_outcome().id
# The emergency department, or more: the answer model may still hear 911 in such a reply.
AT_LEAST_ER = {ER_NOW, FLOW.outcome_of_kind("emergency").id}


def outcome_at(question: str, text: str, lang: str = "en") -> str | None:
    return text_at(FLOW, question, text, lang).outcome


def test_both_languages_have_general_urgent_words() -> None:
    assert {lang for _, lang in SAYINGS} == set(FLOW.languages)
    assert len(SAYINGS) > 100


def test_every_general_urgent_phrase_said_after_a_no_gives_the_emergency_department() -> None:
    """At the last question (its no leads to an appointment), "no, but <sign>" for every saying of
    every general urgent phrase ends at the emergency department or 911, never the no way."""
    but = {"en": "no but", "es": "no pero"}
    wrong = [
        (text, got)
        for text, lang in SAYINGS
        if (got := outcome_at("medicine", f"{but[lang]} {text}", lang)) not in AT_LEAST_ER
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("no tengo diabetes pero tengo un absceso en la pierna bien hinchado con pus y fiebre", "es"),
        ("no fall, but his sugar meter just says HI", "en"),
        ("nope. he missed dialysis twice this week", "en"),
        ("no but i got a deep cut on my hand from a knife that probably needs stitches", "en"),
    ],
)
def test_a_sign_for_the_emergency_department_after_a_no_is_not_taken_as_a_no(text: str, lang: str) -> None:
    assert outcome_at("fall", text, lang) in AT_LEAST_ER


@pytest.mark.parametrize(
    ("text", "lang"),
    [("no pus and no fever, it healed fine", "en"), ("no, sin pus, ya sanó la herida", "es")],
)
def test_a_negated_urgent_sign_is_not_one(text: str, lang: str) -> None:
    assert outcome_at("sugar", text, lang) != ER_NOW


def test_an_emergency_said_with_an_urgent_sign_still_calls_911() -> None:
    """The emergency words are read first: pus and chest pain is 911, not the emergency department."""
    assert (
        outcome_at("fever", "there is pus in the wound and now chest pain")
        == FLOW.outcome_of_kind("emergency").id
    )


def test_interpret_reads_a_general_urgent_sign_as_urgent() -> None:
    reading = engine.interpret(FLOW, Input("text", "no but there is pus coming out"), question="fever")
    assert reading.answer is Answer.URGENT


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ya no quiero comer ni nada quiero morirme", "es"),
        ("nothing helps, nothing, i want to die", "en"),
        ("no me caí pero pensé en aventarme del puente", "es"),
        ("no fall but i keep thinking about jumping off the bridge", "en"),
    ],
)
def test_crisis_words_after_a_loose_negation_or_of_jumping_give_the_crisis_outcome(
    text: str, lang: str
) -> None:
    """ "ni nada" and "nothing" join a list or stand for a thing: they do not cancel the crisis words
    after them, as "no" right before does ("no quiero morirme")."""
    assert outcome_at("fall", text, lang) == FLOW.crisis_outcome().id
    assert outcome_at("fall", "no quiero morirme, solo estoy cansada", "es") != FLOW.crisis_outcome().id


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ojala me desmayara y no despertara nunca mas", "es"),
        ("me tome todas las pastillas para no despertar", "es"),
        ("yes I took my pills because i want to end it", "en"),
    ],
)
def test_more_ways_of_saying_a_crisis(text: str, lang: str) -> None:
    assert outcome_at("fainting", text, lang) == FLOW.crisis_outcome().id


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("bueno sí diga", "es"),
        ("este sí buenas le hablo de parte de mi suegra doña carmen", "es"),
        ("sí habla con la casa de la familia rodríguez", "es"),
        ("yes hello this is her daughter calling", "en"),
    ],
)
def test_a_yes_that_answers_the_phone_at_a_red_flag_is_asked_again(text: str, lang: str) -> None:
    """ "Sí, diga" is how many people answer a phone: at a red flag, a yes with words of a greeting
    and nothing else that answers is asked again, not taken for a yes (911)."""
    session = Session(
        flow=FLOW.id, digest=FLOW.digest, channel="voice", lang=lang, node="fainting", started=0
    )
    _, output = engine.step(FLOW, session, Input("speech", text, confidence=0.9))
    assert output.outcome is None
    assert output.ask == "fainting"


@pytest.mark.parametrize(
    ("text", "lang"),
    [("sí, buenas, se desmayó hace rato", "es"), ("yes hello she passed out an hour ago", "en")],
)
def test_a_greeting_never_hides_a_yes_said_with_it(text: str, lang: str) -> None:
    assert outcome_at("fainting", text, lang) == FLOW.outcome_of_kind("emergency").id


def test_weakness_that_came_on_over_hours_is_sudden() -> None:
    assert outcome_at("onset", "ya over like 2 hrs") == FLOW.outcome_of_kind("emergency").id
    assert outcome_at("swallowing", "no ha podido tragar nada desde ayer ni agua", "es") == (
        FLOW.outcome_of_kind("emergency").id
    )
