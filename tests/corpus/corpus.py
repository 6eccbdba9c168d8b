"""The labelled corpus of real phrasings: reading it, and what the line must do with each line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.core.engine import Output
from ivr.core.flow import Flow

HERE = Path(__file__).parent
CLASSES = ("yes", "no", "unsure", "unclear", "emergency", "help")


@dataclass(frozen=True, slots=True)
class Line:
    """One labelled reply: where it comes from (file and line), its language and channel, what a
    triage nurse would take it as, the question it answers, and the words."""

    source: str
    lang: str
    channel: str  # sms: as texted; voice: as Twilio's recogniser transcribes speech
    label: str
    question: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.source}:{self.text}"


def read(path: Path) -> list[Line]:
    """A corpus file, replies-<lang>-<channel>.tsv: label, question and text, tab-separated."""
    _, lang, channel = path.stem.split("-")
    lines = []
    for number, row in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not row.strip() or row.startswith("#"):
            continue
        label, question, text = row.split("\t")
        lines.append(Line(f"{path.name}:{number}", lang, channel, label, question, text))
    return lines


FILES = sorted(HERE.glob("replies-*.tsv"))
LINES = [line for path in FILES for line in read(path)]


def expected(flow: Flow, line: Line, *, call: bool = False) -> Output:
    """What the very next reply must be, by the line's label, for the question it answers (`call`:
    on a call, where a question asked again offers the other languages by key)."""
    question = flow.questions[line.question]
    lang = line.lang
    if line.label == "yes":
        return Output(lang, outcome=question.yes)
    if line.label == "emergency":
        return Output(lang, outcome=flow.outcome_of_kind("emergency").id)
    if line.label == "no":
        if question.no in flow.outcomes:
            return Output(lang, outcome=question.no)
        return Output(lang, ask=question.no)
    if line.label == "unsure":
        target = flow.unsure_outcome().id if question.red_flag else question.yes
        return Output(lang, outcome=target)
    if line.label == "unclear":
        notice = "not_understood"
        return Output(lang, notices=(notice,), ask=question.id, offers=call and bool(flow.call_offers(lang)))
    if line.label == "help":
        return Output(lang, notices=("help",), ask=question.id)
    raise ValueError(f"{line.source}: unknown label {line.label!r}")
