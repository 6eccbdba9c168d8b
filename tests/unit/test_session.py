"""The session's compact encoding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.core.session import Session, SessionDecodeError, decode, encode


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
    ],
)
def test_unreadable_data_is_refused(raw: bytes) -> None:
    """Corrupt or foreign data raises SessionDecodeError rather than producing a wrong session."""
    with pytest.raises(SessionDecodeError):
        decode(raw)
