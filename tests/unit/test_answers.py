"""Reading yes, no or unclear from texts and key presses."""

from __future__ import annotations

import pytest

from ivr.core.answers import Answer, Vocabulary, from_keys
from ivr.core.answers import from_text as read
from tests.support import shipped_flow

VOCABULARY = shipped_flow().vocabulary


def from_text(text: str) -> Answer:
    return read(text, VOCABULARY)


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes",
        "YES",
        "y",
        "Y",
        "yeah",
        "Yeah!",
        "yep",
        "1",
        " yes ",
        "yes.",
        "Yes!!!",
        "  Y  ",
        "yesss",
        "yes it is",
        "Sí",
        "si",
        "S",
    ],
)
def test_yes_in_any_case_with_stray_punctuation(text: str) -> None:
    """Every yes form, in English or Spanish, reads as yes whatever the case or punctuation."""
    assert from_text(text) is Answer.YES


@pytest.mark.parametrize(
    "text",
    ["no", "No", "NO", "n", "N", "nope", "Nope.", "2", " no ", "no!", "nooo", "No thanks", "no, I don't"],
)
def test_no_in_any_case_with_stray_punctuation(text: str) -> None:
    """Every no form the line accepts reads as no."""
    assert from_text(text) is Answer.NO


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "maybe",
        "I don't know",
        "yes no",
        "no idea",
        "no i cant breathe",
        "3",
        "hello",
        "?",
        "not sure",
        "12",
        "nyes",
    ],
)
def test_anything_else_is_unclear(text: str) -> None:
    """Text that is not plainly yes or no is never guessed, least of all as a no."""
    assert from_text(text) is Answer.UNCLEAR


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


def test_a_word_in_both_lists_can_never_read_as_yes_or_no_alone() -> None:
    """The vocabulary decides; a word the flow does not list is never an answer."""
    vocabulary = Vocabulary(yes=frozenset({"oui"}), no=frozenset({"non"}))
    assert read("Oui!", vocabulary) is Answer.YES
    assert read("non", vocabulary) is Answer.NO
    assert read("yes", vocabulary) is Answer.UNCLEAR
