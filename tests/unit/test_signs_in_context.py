"""Signs whose level depends on what is known: weakness that stops walking is sudden weakness (911)
until the onset question is answered no, then the emergency department; after a fall a hurt head or
neck is 911 and a hurt back the emergency department; every pill one has is a crisis; a swelling
throat, a clutched chest or barely breathing is 911, said at any question."""

from __future__ import annotations

import pytest

from ivr.core.emergency import examples
from ivr.core.flow import UntilNo
from tests.support import shipped_flow, text_at

FLOW = shipped_flow()
EMERGENCY = FLOW.outcome_of_kind("emergency").id
ER_NOW = FLOW.urgent_outcome().id
CRISIS = FLOW.crisis_outcome().id
ORDER = FLOW.question_order()
ONSET = FLOW.until_no["onset"]
BEFORE_ONSET_NO = ORDER[: ORDER.index("onset") + 1]
PAST_ONSET_NO = ORDER[ORDER.index("onset") + 1 :]
# Every way each phrase of `phrases_until_no` can be said with its gaps empty, with its language.
UNABLE = sorted(
    {
        (" ".join(words), lang)
        for p in ONSET.before.patterns
        for words in examples(p.slots)
        for lang in p.langs
    }
)


def outcome_at(question: str, text: str, lang: str = "en") -> str | None:
    return text_at(FLOW, question, text, lang).outcome


def test_only_the_onset_question_holds_phrases_until_its_no() -> None:
    assert set(FLOW.until_no) == {"onset"}
    assert {lang for _, lang in UNABLE} == set(FLOW.languages)


def test_the_nodes_past_a_no_are_those_reached_only_through_it() -> None:
    """Past onset's no: every later question and the outcomes only they lead to; never onset
    itself, a question before it, or an outcome an earlier question leads to as well."""
    assert ONSET.past >= set(PAST_ONSET_NO)
    assert not ONSET.past & set(BEFORE_ONSET_NO)
    assert EMERGENCY not in ONSET.past  # breathing's yes leads there too
    assert "appointment" in ONSET.past


def test_phrases_until_no_count_as_the_sign_before_the_no_and_urgent_after() -> None:
    assert isinstance(ONSET, UntilNo)
    assert ONSET.phrases_at(None) is ONSET.before
    assert ONSET.phrases_at("breathing") is ONSET.before
    assert ONSET.phrases_at("worse") is ONSET.after
    assert ONSET.after.urgent
    assert not ONSET.before.urgent
    assert all(p.question == "onset" for p in ONSET.before.patterns)
    assert all(p.question is None for p in ONSET.after.patterns)


@pytest.mark.parametrize("question", BEFORE_ONSET_NO)
def test_unable_to_walk_before_the_weakness_is_known_not_sudden_calls_911(question: str) -> None:
    """Every saying, at the questions up to onset: 911, the source's sign of sudden weakness."""
    wrong = [(text, got) for text, lang in UNABLE if (got := outcome_at(question, text, lang)) != EMERGENCY]
    assert wrong == []


def test_unable_to_walk_once_the_weakness_is_known_not_sudden_is_for_the_emergency_department() -> None:
    """Every saying after a no, at the last question: the emergency department, never the no way."""
    but = {"en": "no but", "es": "no pero"}
    wrong = [
        (text, got)
        for text, lang in UNABLE
        if (got := outcome_at("medicine", f"{but[lang]} {text}", lang)) not in (ER_NOW, EMERGENCY)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("question", "text", "lang"),
    [
        ("worse", "yes, it started in my feet after the flu and now I can't walk without holding on", "en"),
        ("fever", "sí tuvo gripa hace diez días y ahora ya no puede caminar", "es"),
        (
            "fluids",
            "yes since yesterday, can't keep even water down and she's so weak she can't get up",
            "en",
        ),
        ("medicine", "No, pero esta semana se puso peor, ya no camina", "es"),
        (
            "fluids",
            "yes she hasn't kept anything down since yesterday and she's too weak to get out of bed",
            "en",
        ),
        ("worse", "sí, y ya está muy débil para levantarse", "es"),
    ],
)
def test_weakness_that_grew_until_walking_failed_is_for_the_emergency_department(
    question: str, text: str, lang: str
) -> None:
    assert outcome_at(question, text, lang) == ER_NOW


@pytest.mark.parametrize(
    ("question", "text", "lang"),
    [
        ("worse", "all of a sudden she couldn't stand up", "en"),
        ("fever", "de repente ya no pudo caminar", "es"),
        ("one_side", "yes, his left side went limp and he can't stand", "en"),
    ],
)
def test_unable_to_walk_said_as_sudden_or_one_sided_still_calls_911(
    question: str, text: str, lang: str
) -> None:
    assert outcome_at(question, text, lang) == EMERGENCY


def test_a_fall_asks_only_about_the_head_and_the_neck() -> None:
    spine = FLOW.questions[FLOW.questions["fall"].yes]
    assert "back" not in spine.wording.written["en"]
    assert "espalda" not in spine.wording.written["es"]
    assert (spine.yes, spine.no) == (EMERGENCY, ER_NOW)


@pytest.mark.parametrize(
    ("question", "text", "lang", "wanted"),
    [
        ("bladder", "no but she took a bad fall last week and hurt her back", "en", ER_NOW),
        ("eyelid", "el parpado no, pero se cayo anteayer y se pego en la espalda", "es", ER_NOW),
        ("bladder", "no but he fell and hit his head on the counter", "en", EMERGENCY),
        ("worse", "sí, se cayó y se golpeó el cuello", "es", EMERGENCY),
        ("worse", "yes, he fell off the ladder and broke his back", "en", EMERGENCY),
    ],
)
def test_after_a_fall_a_hurt_back_is_for_the_emergency_department_a_hurt_head_or_neck_for_911(
    question: str, text: str, lang: str, wanted: str
) -> None:
    assert outcome_at(question, text, lang) == wanted


def test_a_hurt_back_said_at_the_fall_question_is_its_yes() -> None:
    """The fall's own words: the head and neck question comes next."""
    output = text_at(FLOW, "fall", "yes fell on the ice and hurt my back")
    assert output.ask == FLOW.questions["fall"].yes


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("no… pero me tomé todas las pastillas que tenía", "es"),
        ("i swallowed all the pills i had left", "en"),
        ("no. i took a whole bottle of tylenol an hour ago", "en"),
        ("se tomó el frasco entero", "es"),
        ("i've been saving up my pills", "en"),
    ],
)
def test_every_pill_one_has_is_a_crisis(text: str, lang: str) -> None:
    assert outcome_at("face", text, lang) == CRISIS


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("yes new antibiotic today and now her throat is swelling", "en"),
        ("he's clutching his chest", "en"),
        ("it feels like an elephant sitting on him", "en"),
        ("she can barely breathe", "en"),
        ("sí, pastilla nueva y se le hinchó la lengua", "es"),
        ("se está agarrando el pecho", "es"),
    ],
)
def test_signs_of_a_closing_airway_or_a_heart_attack_call_911_at_any_question(text: str, lang: str) -> None:
    assert outcome_at("medicine", text, lang) == EMERGENCY


@pytest.mark.parametrize(
    ("text", "lang"),
    [("the meter says five hundred something", "en"), ("el aparatito dice quinientos y pico", "es")],
)
def test_a_sugar_of_five_hundred_said_in_words_is_for_the_emergency_department(text: str, lang: str) -> None:
    assert outcome_at("sugar", text, lang) in (ER_NOW, EMERGENCY)


@pytest.mark.parametrize(
    ("question", "text", "lang"),
    [
        (
            "breathing",
            "breathing ok. but she hasnt kept anything down since yesterday, not even water, she's so weak",
            "en",
        ),
        ("worse", "igual, pero no ha podido retener nada, ni agua, desde ayer y está muy débil", "es"),
        ("fluids", "yes for over a day now, can't even keep water down, I'm so weak and dizzy", "en"),
    ],
)
def test_nothing_kept_down_for_a_day_with_bad_weakness_is_for_the_emergency_department(
    question: str, text: str, lang: str
) -> None:
    assert outcome_at(question, text, lang) == ER_NOW


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("yes been throwing up since last night can't keep water down", "en"),  # no bad weakness
        ("yes she can't keep anything down and she's so weak", "en"),  # not for a day
        ("sí desde ayer no retiene ni el agua", "es"),
    ],
)
def test_vomiting_without_a_day_and_bad_weakness_both_is_a_visit_today(text: str, lang: str) -> None:
    assert outcome_at("fluids", text, lang) == FLOW.questions["fluids"].yes


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Woke up like this. was totally normal last night", "en"), ("amaneció así, anoche estaba bien", "es")],
)
def test_weakness_found_on_waking_is_sudden(text: str, lang: str) -> None:
    assert outcome_at("onset", text, lang) == EMERGENCY


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("la cara no pero mire ayer me tomé un montón de pastillas porque ya no quería estar aquí", "es"),
        ("no pero le digo la verdad me tomé un montón de pastillas porque ya no quiero seguir", "es"),
        ("i took a bunch of my sleeping pills because i'm done", "en"),
        ("a month or so. I've been cutting again, sorry", "en"),
        ("me he estado cortando otra vez", "es"),
    ],
)
def test_pills_taken_for_a_reason_and_cutting_again_are_a_crisis(text: str, lang: str) -> None:
    assert outcome_at("face", text, lang) == CRISIS


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("yes I took my new pills because the doctor changed them", "en"),
        ("sí, toma muchas pastillas porque es diabética", "es"),
        ("she took too many of her pills by accident and now she won't wake up", "en"),
    ],
)
def test_pills_taken_as_prescribed_or_by_accident_are_not_a_crisis(text: str, lang: str) -> None:
    assert outcome_at("medicine", text, lang) != CRISIS


def test_legs_that_give_out_are_unable_to_stand() -> None:
    """Sudden weakness (911) before the onset question's no; the emergency department after it."""
    text = "no but she fell on the steps two days ago, her back hurts bad and her legs keep giving out"
    assert outcome_at("breathing", text) == EMERGENCY
    assert outcome_at("eyelid", text) == ER_NOW


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("no. me tomé todas las pastillas del frasco porque ya no aguanto", "es"),
        ("i took too many pills, i just can't do this anymore", "en"),
    ],
)
def test_too_many_pills_with_a_crisis_the_model_hears_is_a_crisis(text: str, lang: str) -> None:
    assert outcome_at("bladder", text, lang) == CRISIS


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("she took too many of her sleeping pills by mistake and now won't wake up", "en"),
        ("no pero se tomo muchas pastillas sin querer", "es"),
    ],
)
def test_too_many_pills_by_accident_is_an_emergency(text: str, lang: str) -> None:
    assert outcome_at("medicine", text, lang) == EMERGENCY


def test_without_the_answer_model_too_many_pills_is_an_emergency() -> None:
    """The rules alone cannot tell intent: 911, the outcome that never waits."""
    rules_only = FLOW.with_model(None)
    output = text_at(
        rules_only, "bladder", "no. me tomé todas las pastillas del frasco porque ya no aguanto", "es"
    )
    assert output.outcome == EMERGENCY


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("no no confusion but she's vomiting blood like a lot of it", "en"),
        ("no, pero le cuesta jalar aire", "es"),
    ],
)
def test_vomiting_blood_and_struggling_for_air_call_911(text: str, lang: str) -> None:
    assert outcome_at("speech", text, lang) == EMERGENCY


@pytest.mark.parametrize(
    ("question", "text", "lang"),
    [
        ("worse", "igual pero desde hace dos días nomás vomita y vomita no le para nada ni el agua", "es"),
        ("recent", "yes about 3 weeks. and for the last day and a half I can't keep anything down", "en"),
    ],
)
def test_nothing_kept_down_for_a_day_or_more_said_outright_is_for_the_emergency_department(
    question: str, text: str, lang: str
) -> None:
    assert outcome_at(question, text, lang) == ER_NOW


@pytest.mark.parametrize(
    ("question", "text", "lang", "wanted"),
    [
        (
            "breathing",
            "la respiración bien. La verdad ya no le veo caso a nada, preferiría estar muerta",
            "es",
            CRISIS,
        ),
        ("sugar", "sí es diabética y ahorita está bien dormida no la podemos despertar", "es", EMERGENCY),
        ("fluids", "sí vomita y ahorita vomitó sangre, mucha", "es", EMERGENCY),
        ("fever", "yes fever and now a stiff neck and purple spots on his legs", "en", EMERGENCY),
        ("bladder", "no pero tiene la cara hinchada y le está costando respirar", "es", EMERGENCY),
    ],
)
def test_more_ways_of_saying_a_crisis_or_an_emergency(
    question: str, text: str, lang: str, wanted: str
) -> None:
    assert outcome_at(question, text, lang) == wanted


@pytest.mark.parametrize(
    ("text", "lang"), [("Sudden. 2 hrs ago", "en"), ("de golpe, como a las cinco", "es")]
)
def test_a_reply_whose_first_part_is_the_questions_own_yes_is_a_yes(text: str, lang: str) -> None:
    assert outcome_at("onset", text, lang) == EMERGENCY


@pytest.mark.parametrize(
    ("question", "text", "lang"),
    [("fall", "ningún golpe", "es"), ("fall", "no fall", "en"), ("bladder", "ninguno de los dos", "es")],
)
def test_a_questions_own_noes(question: str, text: str, lang: str) -> None:
    assert text_at(FLOW, question, text, lang).ask == FLOW.questions[question].no


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("how many more questions are there", "en"),
        ("how do I go back", "en"),
        ("¿cuántas preguntas faltan?", "es"),
    ],
)
def test_asking_how_the_line_works_gets_the_help_text(text: str, lang: str) -> None:
    output = text_at(FLOW, "fall", text, lang)
    assert output.notices == ("help",)
    assert output.ask == "fall"
