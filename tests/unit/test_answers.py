"""Reading yes, no, unsure or not-an-answer from texts, transcripts and key presses."""

from __future__ import annotations

import pytest

from ivr.core.answers import Answer, Vocabulary, classify, from_keys
from ivr.core.engine import Input, interpret
from ivr.core.words import Said, normal_words
from tests.support import shipped_flow

FLOW = shipped_flow()


def read(text: str, lang: str = "en", question: str = "breathing") -> Answer:
    return interpret(FLOW, Input("text", text), lang=lang, question=question)


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes",
        "YES",
        "y",
        " Y ",
        "yeah",
        "Yeah!",
        "yep",
        "1",
        "yes.",
        "Yes!!!",
        "yesss",
        "Sí",
        "si",
        "S",
    ],
)
def test_yes_in_any_case_with_stray_punctuation(text: str) -> None:
    """Every plain yes form, in English or Spanish, reads as yes whatever the case or punctuation."""
    assert read(text) is Answer.YES


@pytest.mark.parametrize(
    "text",
    ["a little", "kind of", "I think so", "sort of, it came on this morning", "un poco", "creo que sí"],
)
def test_a_partial_or_hedged_yes_is_a_yes(text: str) -> None:
    """A nurse hears "a little" or "I think so" as a yes; so does the line."""
    assert read(text) is Answer.YES


@pytest.mark.parametrize(
    "text", ["no", "N", "nope", "Nope.", "2", "nooo", "No thanks", "no, I don't", "not really", "nah"]
)
def test_no_in_its_everyday_forms(text: str) -> None:
    """Plain and everyday noes read as no."""
    assert read(text) is Answer.NO


@pytest.mark.parametrize("text", ["not sure", "maybe", "I don't know", "no idea", "no sé", "tal vez"])
def test_doubt_is_its_own_answer(text: str) -> None:
    """Unsure is neither yes nor no; "no idea" and "no sé" are unsure, not no."""
    assert read(text) is Answer.UNSURE


@pytest.mark.parametrize(
    ("text", "question"), [("no it is", "fainting"), ("No I do", "onset"), ("yes no", "face")]
)
def test_a_yes_and_a_no_together_are_doubt_never_a_no(text: str, question: str) -> None:
    """ "No it is" or "No I do" contradict themselves: unsure, which on a red flag means act."""
    assert read(text, question=question) is Answer.UNSURE


@pytest.mark.parametrize(
    ("text", "answer"), [("it is", Answer.YES), ("it isn't", Answer.NO), ("she hasn't", Answer.NO)]
)
def test_a_short_echo_of_the_question_answers_it(text: str, answer: Answer) -> None:
    """A subject and a verb at the end of a clause echo the question: yes, or no with not."""
    assert read(text) is answer


@pytest.mark.parametrize(
    "text", ["I have no strength in my legs", "no, it came on slowly", "nothing in my arm"]
)
def test_a_no_with_words_the_line_cannot_place_is_asked_again(text: str) -> None:
    """A no is taken only with filler around it; "no strength in my legs" is not a plain no."""
    assert read(text, question="movement") is Answer.UNCLEAR


@pytest.mark.parametrize("text", ["y no", "dolor y debilidad", "2 days ago", "my mom s arm"])
def test_single_letters_and_numbers_answer_only_on_their_own(text: str) -> None:
    """ "y" is also Spanish "and", and a number may be a day count: they answer only alone."""
    assert read(text) is not Answer.YES
    assert read(text) is not Answer.NO


@pytest.mark.parametrize("text", ["", "   ", "?", "hello", "3", "12", "what do you mean", "¿qué?"])
def test_anything_else_is_not_an_answer(text: str) -> None:
    """Text that answers nothing is not guessed, least of all as a no."""
    assert read(text) is Answer.UNCLEAR


def test_a_reply_is_read_in_the_conversation_language_first() -> None:
    """ "ya" is a yes in English texting and a filler word in Spanish ("ya estoy bien")."""
    assert read("ya", lang="en") is Answer.YES
    assert read("no, ya estoy bien", lang="es") is Answer.NO
    assert read("yes", lang="es") is Answer.YES  # no Spanish answer found: all languages


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("sí", "en", (Answer.YES, "es")),
        ("un poco", "en", (Answer.YES, "es")),
        ("para nada", "en", (Answer.NO, "es")),
        ("no sé", "en", (Answer.UNSURE, "es")),
        ("no, no tengo", "en", (Answer.NO, "es")),
        ("yes", "es", (Answer.YES, "en")),
        ("no", "en", (Answer.NO, None)),  # English knows it: the conversation's own language
        ("sí, a little", "en", (Answer.YES, None)),  # "a little" is English
        ("ya", "es", (Answer.UNCLEAR, None)),  # a Spanish filler word is no English yes here
        ("purple", "en", (Answer.UNCLEAR, None)),
    ],
)
def test_an_answer_found_only_in_another_language_says_which(
    text: str, lang: str, expected: tuple[Answer, str | None]
) -> None:
    """The line can follow a caller into their language: the class, and the one language whose
    words alone gave it when the conversation's own found none."""
    assert FLOW.understanding.read(Said.of(text), lang, question="breathing") == expected


def test_a_denied_red_flag_is_a_no_to_its_own_question_only() -> None:
    """ "I haven't passed out" answers the fainting question; to another question it is no answer."""
    assert read("I haven't passed out", question="fainting") is Answer.NO
    assert read("I haven't passed out", question="breathing") is Answer.UNCLEAR


@pytest.mark.parametrize(
    ("keys", "answer"),
    [
        ("1", Answer.YES),
        ("2", Answer.NO),
        ("3", Answer.UNCLEAR),
        ("0", Answer.UNCLEAR),
        ("*", Answer.UNCLEAR),
        ("#", Answer.UNCLEAR),
        ("", Answer.UNCLEAR),
        ("12", Answer.UNCLEAR),
    ],
)
def test_keys(keys: str, answer: Answer) -> None:
    """On the keypad only 1 (yes) and 2 (no) are answers."""
    assert from_keys(keys) is answer


def test_the_vocabulary_decides() -> None:
    """A word the vocabulary does not list is never an answer; its phrases are."""

    def words(*texts: str) -> frozenset[tuple[str, ...]]:
        return frozenset(normal_words(t) for t in texts)

    vocabulary = Vocabulary(yes=words("oui", "un peu"), no=words("non"), unsure=words("je sais pas"))
    assert classify(Said.of("Oui!"), vocabulary) is Answer.YES
    assert classify(Said.of("un peu"), vocabulary) is Answer.YES
    assert classify(Said.of("non"), vocabulary) is Answer.NO
    assert classify(Said.of("je sais pas"), vocabulary) is Answer.UNSURE
    assert classify(Said.of("yes"), vocabulary) is Answer.UNCLEAR
