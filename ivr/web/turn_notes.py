"""What the line made of each reply, for the simulator page (local mode only): the class of answer
it took (yes, no, unsure, not understood...) or what else it did (emergency words, help, a language
switch, the rate limit), as the service decided it, so the page never has to guess from the reply."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ivr.application.service import Turn
from ivr.ops.observer import Later, Observer

KEPT = 64  # conversations remembered at once; the page asks right after each of its own posts


@dataclass(frozen=True, slots=True)
class TurnNote:
    """How one turn took what the person did. `taken` is a class of answer from the engine (yes,
    no, unsure, unclear, unconfirmed: see engine.HEARD_NAMES, which may grow) with the `question`
    it answered, or one of: start, emergency_words, urgent_words, crisis_words, help, language,
    nurse, rate_limited, opted_out, opted_in, ignored, ended, repeat, "" (nothing new). `how` says
    how an answer was decided: key, rule, or model (with its probability, `score`)."""

    taken: str
    question: str | None
    outcome: str | None
    kind: str | None
    lang: str
    how: str | None = None
    score: float | None = None

    @classmethod
    def of(cls, turn: Turn) -> TurnNote:
        """The note for a turn."""
        output = turn.output
        outcome = output.outcome
        kind = turn.flow.outcomes[outcome].kind if outcome is not None else None
        question = None
        if turn.replayed:
            taken = "repeat"
        elif turn.event in ("rate_limited", "opted_out", "opted_in", "ignored"):
            taken = turn.event
        elif turn.heard is not None and turn.heard.taken in ("emergency", "urgent", "crisis"):
            question, taken = turn.heard.question, f"{turn.heard.taken}_words"
        elif turn.heard is not None:
            question, taken = turn.heard.question, turn.heard.taken
        elif kind == "emergency":
            taken = "emergency_words"  # the emergency outcome with no answer recorded: words said it
        elif outcome is not None:
            taken = "ended"
        elif "help" in output.notices:
            taken = "help"
        elif output.handoff:
            taken = "nurse"
        elif turn.fresh:
            taken = "start"
        elif "intro" in output.notices:
            taken = "language"
        else:
            taken = ""
        how = turn.heard.decided_by if turn.heard is not None else None
        digits = turn.heard.how[1:] if turn.heard is not None else ""
        score = int(digits) / 100 if how == "model" and digits.isdigit() else None
        return cls(taken, question, outcome, kind, output.lang, how, score)

    def as_json(self) -> dict[str, Any]:
        """The note as the page reads it."""
        return {
            "taken": self.taken,
            "question": self.question,
            "outcome": self.outcome,
            "kind": self.kind,
            "lang": self.lang,
            "how": self.how,
            "score": self.score,
        }


class TurnNotes:
    """The last note per conversation (channel and caller's keyed hash), a bounded few."""

    def __init__(self) -> None:
        self._notes: OrderedDict[str, TurnNote] = OrderedDict()

    def put(self, conversation: str, note: TurnNote) -> None:
        """Keep the note of a conversation's latest turn."""
        self._notes[conversation] = note
        self._notes.move_to_end(conversation)
        while len(self._notes) > KEPT:
            self._notes.popitem(last=False)

    def take(self, conversation: str) -> TurnNote | None:
        """The note of the conversation's latest turn, once; None when no turn was noted (the
        webhook answered with the safety net, or the call was hung up)."""
        return self._notes.pop(conversation, None)


class NotingObserver(Observer):
    """The app's observer, which in local mode also notes how each turn took what was said."""

    def __init__(self, *args: Any, notes: TurnNotes, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes = notes

    def after(self, turn: Turn, channel: str, *, caller: str, later: Later) -> None:
        """Count the turn as always, and note it for the page."""
        super().after(turn, channel, caller=caller, later=later)
        self.notes.put(conversation_of(self, channel, caller), TurnNote.of(turn))


def conversation_of(observer: Observer, channel: str, caller: str) -> str:
    """Which conversation a note belongs to: the channel and the caller's keyed hash, never the
    number itself."""
    return f"{channel}:{observer.pseudonyms.caller(caller)}"
