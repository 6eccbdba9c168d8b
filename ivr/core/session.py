"""One conversation's progress through a flow, and its compact encoding for storage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1

# How a reply to a question was taken: y yes, n no, u unsure, x not understood (or silence, or a
# wrong key), c a faint spoken no to a red flag, awaiting the keypad, e an emergency, g an urgent
# sign (another question's, for the emergency department), s words of a crisis.
HEARD_CLASSES = frozenset("ynuxcegs")

Channel = Literal["sms", "voice"]


class SessionDecodeError(ValueError):
    """Stored bytes that are not a session this code can continue."""


@dataclass(frozen=True, slots=True)
class Session:
    """Where a conversation stands. `node` is the question awaiting an answer.

    `digest` pins the exact flow content the conversation started on; it finishes on that
    content even if the flow is edited meanwhile. `outcome` is set once the triage has ended.
    """

    flow: str
    digest: str
    channel: Channel
    lang: str
    node: str
    started: int
    misses: int = 0
    turns: int = 0
    answers: tuple[tuple[str, bool], ...] = ()
    outcome: str | None = None
    confirm: bool = False  # a spoken no to a red flag awaits confirmation by keypad
    # How each reply to a question was taken, in order: (question, class), the class one of
    # HEARD_CLASSES. Replies that answer no question (a language switch, help) are not in it.
    heard: tuple[tuple[str, str], ...] = ()
    # How each of those was decided, in the same order: k a key, r a rule, m87 the answer model at
    # a probability of 0.87, - nothing said (see ivr.core.reading.Reading.record).
    how: tuple[str, ...] = ()

    @property
    def ended(self) -> bool:
        """Whether the conversation has reached an outcome."""
        return self.outcome is not None


def encode(session: Session) -> bytes:
    """Short keys and answers as one string keep a session near 150 bytes in Redis."""
    data: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "f": session.flow,
        "d": session.digest,
        "c": session.channel,
        "l": session.lang,
        "n": session.node,
        "s": session.started,
        "m": session.misses,
        "t": session.turns,
        "a": encode_answers(session.answers),
    }
    if session.outcome is not None:
        data["o"] = session.outcome
    if session.confirm:
        data["k"] = 1
    if session.heard:
        data["h"] = encode_heard(session.heard)
    if session.how:
        data["w"] = ",".join(session.how)
    return json.dumps(data, separators=(",", ":")).encode()


def encode_answers(answers: tuple[tuple[str, bool], ...]) -> str:
    """The questions answered and how, as "breathing=n,fainting=y": in sessions and audit records."""
    return ",".join(f"{q}={'y' if yes else 'n'}" for q, yes in answers)


def decode_answers(text: str) -> tuple[tuple[str, bool], ...]:
    """The reverse of encode_answers; SessionDecodeError for anything else."""
    answers: list[tuple[str, bool]] = []
    for item in text.split(",") if text else ():
        question, _, value = item.partition("=")
        if value not in ("y", "n"):
            raise SessionDecodeError("bad answer record")
        answers.append((question, value == "y"))
    return tuple(answers)


def encode_heard(heard: tuple[tuple[str, str], ...]) -> str:
    """Replies by question, in order, each question named once per run: "breathing:xn,fainting:u".
    A session keeps at most `max_turns` of them, one letter each, so it stays well under 1 KB."""
    runs: list[list[str]] = []
    for question, taken in heard:
        if runs and runs[-1][0] == question:
            runs[-1][1] += taken
        else:
            runs.append([question, taken])
    return ",".join(f"{q}:{t}" for q, t in runs)


def decode_heard(text: str) -> tuple[tuple[str, str], ...]:
    """The reverse of encode_heard; SessionDecodeError for anything else."""
    heard: list[tuple[str, str]] = []
    for run in text.split(",") if text else ():
        question, _, taken = run.partition(":")
        if not question or not taken or not set(taken) <= HEARD_CLASSES:
            raise SessionDecodeError("bad heard record")
        heard.extend((question, t) for t in taken)
    return tuple(heard)


def record_heard(heard: tuple[tuple[str, str], ...], how: tuple[str, ...] = ()) -> str:
    """How replies were taken, as the audit record writes it: "breathing=x,breathing=n,fainting=u";
    with how each was decided when known: "breathing=x:m41,breathing=n:r,fainting=u:k"."""
    if len(how) != len(heard):
        return ",".join(f"{q}={t}" for q, t in heard)
    return ",".join(f"{q}={t}:{h}" for (q, t), h in zip(heard, how, strict=True))


def decode(raw: bytes | str) -> Session:
    """The session stored as `raw`; SessionDecodeError for anything else."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("v") != SCHEMA_VERSION:
            raise SessionDecodeError("unknown session schema")
        answers = decode_answers(str(data["a"]))
        channel = data["c"]
        if channel not in ("sms", "voice"):
            raise SessionDecodeError("bad channel")
        return Session(
            flow=str(data["f"]),
            digest=str(data["d"]),
            channel=channel,
            lang=str(data["l"]),
            node=str(data["n"]),
            started=int(data["s"]),
            misses=int(data["m"]),
            turns=int(data["t"]),
            answers=answers,
            outcome=str(data["o"]) if "o" in data else None,
            confirm=bool(data.get("k", 0)),
            heard=decode_heard(str(data.get("h", ""))),
            how=tuple(str(data["w"]).split(",")) if data.get("w") else (),
        )
    except SessionDecodeError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise SessionDecodeError(str(exc)) from exc
