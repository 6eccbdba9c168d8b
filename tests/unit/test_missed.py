"""The texts whose turn failed in this process, remembered for a while per conversation."""

from __future__ import annotations

from ivr.store.missed import MAX_PER_CONVERSATION, MissedReplies


def test_fields_are_taken_once_oldest_first_until_they_lapse() -> None:
    now = [0.0]
    missed = MissedReplies(clock=lambda: now[0])
    missed.note("a", b"1", 60)
    missed.note("a", b"2", 60)
    assert missed.take("a") == [b"1", b"2"]
    assert missed.take("a") == []
    missed.note("b", b"3", 60)
    now[0] = 61.0
    assert missed.take("b") == []


def test_it_stays_bounded() -> None:
    missed = MissedReplies(capacity=2)
    for key in "abc":
        missed.note(key, b"x", 60)
    assert (missed.take("a"), missed.take("c")) == ([], [b"x"])
    for n in range(MAX_PER_CONVERSATION + 5):
        missed.note("d", str(n).encode(), 60)
    kept = missed.take("d")
    assert len(kept) == MAX_PER_CONVERSATION
    assert kept[-1] == str(MAX_PER_CONVERSATION + 4).encode()
