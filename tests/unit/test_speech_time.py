"""Counting how long a call speaks: words as said (a digit is a word), at 150 words a minute."""

from __future__ import annotations

import pytest

from ivr.channels import speech_time


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("In an emergency, hang up and call 911 now.", 11),
        ("Para español, oprima 9.", 4),
        ("¿Llama por otra persona? Conteste por ella.", 7),
        ("Don't wait; it's 112.", 6),
        ("", 0),
    ],
)
def test_words_are_counted_as_said_each_digit_one(text: str, words: int) -> None:
    """Punctuation is no word, a contraction is one, each digit of a number is one."""
    assert speech_time.words(text) == words


def test_seconds_at_150_words_a_minute() -> None:
    """25 words take 10 seconds; 10 seconds hold 25 words and 15 seconds 37."""
    assert speech_time.seconds(25) == 10.0
    assert speech_time.most_words(10) == 25
    assert speech_time.most_words(15) == 37


def test_words_before_and_through_a_passage_across_says() -> None:
    """Counted <Say> after <Say>, up to where the passage begins, or to its end; None if unsaid."""
    says = ("Call 911 now.", "Para español, oprima 9.", "Is it hard to breathe? Say yes.")
    assert speech_time.words_before(says, "Is it hard") == 9
    assert speech_time.words_through(says, "Para español, oprima 9.") == 9
    assert speech_time.words_before(says, "Say yes.") == 14
    assert speech_time.words_before(says, "never said") is None
    assert speech_time.words_through(says, "never said") is None
