"""What the line advised, for the people who run it: counts from the audit stream, per outcome, per
question and how long conversations took. Rendered by ivr.ops.report_formats."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.core.flow import OUTCOME_KINDS
from ivr.store.audit import AuditRecord

# Every outcome kind a flow may have (ivr.core.flow.OUTCOME_KINDS), then what a call can end in
# besides: a nurse took it, or the caller hung up first.
OUTCOMES = (*OUTCOME_KINDS, "handoff", "abandoned")
# How a reply to a question was taken, as the audit record's `heard` field spells it (see
# ivr.store.audit): y yes, n no, u unsure, x not understood, c a faint spoken no awaiting the keypad,
# e an emergency, g an urgent sign, s a crisis. What follows a colon (how it was decided) is not counted here.
REPLY_CLASSES = {
    "y": "yes",
    "n": "no",
    "u": "unsure",
    "x": "not understood",
    "c": "unconfirmed",
    "e": "emergency",
    "g": "urgent",
    "s": "crisis",
}
OTHER = "other"  # a class this version does not know (a newer engine's), counted rather than lost
REPLIES = (*REPLY_CLASSES.values(), OTHER)


def day_of(ts_ms: int) -> str:
    """The UTC day of a time in milliseconds, as YYYY-MM-DD."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def replies_of(record: AuditRecord) -> Iterator[tuple[str, str]]:
    """(question, how the reply was taken) for each reply in order. Records written before `heard`
    existed have only the final answers, which are read instead; a malformed pair is skipped."""
    for item in (record.heard or record.answers).split(","):
        question, sep, kind = item.strip().partition("=")
        if sep and question:
            yield question, REPLY_CLASSES.get(kind.partition(":")[0], OTHER)


@dataclass
class QuestionStats:
    """One question: how many conversations replied to it at least once, and every reply by class."""

    reached: int = 0
    replies: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds from the first message to the outcome, over conversations that reached one."""

    count: int
    median: float
    p90: float


def timing(durations: Sequence[int]) -> Timing | None:
    """Median and 90th percentile (nearest rank: the smallest duration at or above 90% of them)."""
    if not durations:
        return None
    ordered = sorted(durations)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return Timing(len(ordered), float(statistics.median(ordered)), float(p90))


@dataclass
class Summary:
    """Counts over a period. `completed` excludes abandoned calls. Nothing in it identifies anyone:
    outcomes, channels, languages, days, question ids, reply classes and durations."""

    since: str
    until: str
    total: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_day: dict[str, Counter[str]] = field(default_factory=dict)
    yes_by_question: Counter[str] = field(default_factory=Counter)
    rows: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    questions: dict[str, QuestionStats] = field(default_factory=dict)  # in the order first met
    durations: dict[str, list[int]] = field(default_factory=dict)  # by outcome; abandoned left out

    @property
    def completed(self) -> int:
        """Conversations that reached an outcome (abandoned calls left out)."""
        return self.total - self.by_outcome["abandoned"]

    @property
    def emergency_share(self) -> float:
        """Emergency outcomes among triages that reached an outcome."""
        return self.by_outcome["emergency"] / self.completed if self.completed else 0.0

    @property
    def top_yes(self) -> tuple[str, int] | None:
        """The red flag most often answered yes, and how often."""
        return self.yes_by_question.most_common(1)[0] if self.yes_by_question else None

    def time_to_outcome(self) -> dict[str, Timing]:
        """Timing over all outcomes ("all") and per outcome, for those with any conversation."""
        found = {"all": timing([d for ds in self.durations.values() for d in ds])}
        found.update({o: timing(self.durations.get(o, [])) for o in OUTCOMES if o != "abandoned"})
        return {name: t for name, t in found.items() if t is not None}


def summarize(records: Sequence[AuditRecord], *, since: str = "", until: str = "") -> Summary:
    """Counts over the records of a period (from `since` to `until`, whole UTC days)."""
    summary = Summary(since=since, until=until)
    for record in records:
        day = day_of(record.ts_ms)
        summary.total += 1
        summary.by_outcome[record.outcome] += 1
        summary.by_channel[record.channel] += 1
        summary.by_language[record.lang] += 1
        summary.by_day.setdefault(day, Counter())[record.outcome] += 1
        summary.yes_by_question.update(record.yes_answers)
        summary.rows[(day, record.channel, record.lang, record.outcome)] += 1
        reached = set()
        for question, kind in replies_of(record):
            stats = summary.questions.setdefault(question, QuestionStats())
            stats.replies[kind] += 1
            if question not in reached:
                reached.add(question)
                stats.reached += 1
        if record.outcome != "abandoned":
            summary.durations.setdefault(record.outcome, []).append(record.duration_s)
    return summary
