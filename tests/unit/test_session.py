"""The session's compact encoding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.core.session import (
    Session,
    SessionDecodeError,
    decode,
    decode_heard,
    encode,
    encode_heard,
    record_heard,
)


def _session() -> Session:
    return Session(
        flow="muscle-weakness",
        digest="0123456789abcdef",
        channel="voice",
        lang="en",
        node="face",
        started=1_764_000_000,
        misses=1,
        turns=4,
        answers=(("breathing", False), ("fainting", False), ("confusion", False)),
        heard=(
            ("breathing", "x"),
            ("breathing", "n"),
            ("fainting", "c"),
            ("fainting", "n"),
            ("confusion", "n"),
        ),
    )


def test_round_trip() -> None:
    """A session decodes to exactly what was encoded, answers and all."""
    session = _session()
    assert decode(encode(session)) == session
    ended = replace(session, node="", outcome="emergency")
    assert decode(encode(ended)) == ended


def test_encoding_is_small_and_carries_a_schema_version() -> None:
    """A mid-conversation session stays well under 300 bytes and records its schema version."""
    raw = encode(_session())
    assert len(raw) < 300
    assert b'"v":1' in raw


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"v":99}',
        b'{"v":1}',
        b'{"v":1,"f":"x","d":"y","c":"fax","l":"en","n":"q","s":0,"m":0,"t":0,"a":""}',
        b'{"v":1,"f":"x","d":"y","c":"sms","l":"en","n":"q","s":0,"m":0,"t":0,"a":"q=maybe"}',
        b'{"v":1,"f":"x","d":"y","c":"sms","l":"en","n":"q","s":0,"m":0,"t":0,"a":"","h":"q:yz"}',
        b'{"v":1,"f":"x","d":"y","c":"sms","l":"en","n":"q","s":0,"m":0,"t":0,"a":"","h":":y"}',
    ],
)
def test_unreadable_data_is_refused(raw: bytes) -> None:
    """Corrupt or foreign data raises SessionDecodeError rather than producing a wrong session."""
    with pytest.raises(SessionDecodeError):
        decode(raw)


def test_how_replies_were_taken_is_kept_in_runs_per_question() -> None:
    """Each question is named once per run of replies: "breathing:xn,fainting:cn"; the audit
    record spells every reply out as question=class."""
    heard = (("breathing", "x"), ("breathing", "n"), ("fainting", "c"), ("fainting", "n"), ("breathing", "y"))
    assert encode_heard(heard) == "breathing:xn,fainting:cn,breathing:y"
    assert decode_heard(encode_heard(heard)) == heard
    assert record_heard(heard) == "breathing=x,breathing=n,fainting=c,fainting=n,breathing=y"


def test_a_session_at_its_turn_limit_stays_well_under_a_kilobyte() -> None:
    """Sixty replies (the flow's max_turns) over twelve questions, with long ids, encode in under 1 KB."""
    questions = [f"question-{n:02d}" for n in range(12)]
    heard = tuple((questions[n // 5], "xxxxn"[n % 5]) for n in range(60))
    answers = tuple((q, False) for q in questions)
    session = replace(_session(), answers=answers, heard=heard, turns=60)
    assert len(encode(session)) < 700
    assert decode(encode(session)) == session


def test_a_session_saved_before_heard_was_kept_still_decodes() -> None:
    """Sessions written by the previous release have no "h": they continue with nothing heard yet."""
    raw = b'{"v":1,"f":"x","d":"y","c":"sms","l":"en","n":"q","s":0,"m":0,"t":1,"a":"a=n"}'
    assert decode(raw).heard == ()
    assert decode(raw).answers == (("a", False),)
