"""`ivr report` from audit records: per question, who reached it and how they answered; how long
conversations took to an outcome; in the table, the CSV and the HTML, with nothing personal."""

from __future__ import annotations

import csv
import io

from ivr.ops.report import Summary, replies_of, summarize, timing
from ivr.ops.report_formats import as_csv, as_html, as_table, seconds
from ivr.store.audit import AuditRecord

DAY_MS = 1_764_547_200_000  # 2025-12-01 00:00 UTC
CALLER = "k3yedHashOfAPhoneNumbr"


def _record(outcome: str, answers: str, heard: str, duration_s: int, channel: str = "sms") -> AuditRecord:
    return AuditRecord(
        ts_ms=DAY_MS + duration_s,
        channel=channel,
        lang="en",
        flow="muscle-weakness",
        version="3",
        digest="abc",
        outcome=outcome,
        answers=answers,
        duration_s=duration_s,
        caller=CALLER,
        heard=heard,
    )


RECORDS = [
    # Not understood once, then no; then yes to fainting.
    _record("emergency", "breathing=n,fainting=y", "breathing=x,breathing=n,fainting=y", 40),
    # Unsure about breathing, then a faint spoken no confirmed by keypad.
    _record("emergency", "breathing=y", "breathing=u,breathing=y", 20, channel="voice"),
    _record("appointment", "breathing=n,fainting=n", "breathing=c,breathing=n,fainting=n", 200, "voice"),
    # Written before `heard` existed: the final answers are read instead.
    _record("appointment", "breathing=n,fainting=n", "", 100),
    # A class this version does not know, and a malformed pair, are neither lost nor fatal.
    _record("safety", "", "breathing=z,broken,=y,breathing=x", 60),
    _record("abandoned", "", "", 5, channel="voice"),
]


def _summary() -> Summary:
    return summarize(RECORDS, since="2025-12-01", until="2025-12-01")


def test_replies_are_read_in_order_with_unknown_classes_kept_as_other() -> None:
    """Each question=class pair becomes (question, reply); unknown classes are `other`."""
    assert list(replies_of(RECORDS[0])) == [
        ("breathing", "not understood"),
        ("breathing", "no"),
        ("fainting", "yes"),
    ]
    assert list(replies_of(RECORDS[4])) == [("breathing", "other"), ("breathing", "not understood")]
    assert list(replies_of(RECORDS[3])) == [("breathing", "no"), ("fainting", "no")]
    assert list(replies_of(RECORDS[5])) == []


def test_per_question_reached_counts_people_and_replies_count_every_reply() -> None:
    """Breathing was reached by five conversations, with seven replies among them; fainting by
    three; questions keep the order they were first met in."""
    questions = _summary().questions
    assert list(questions) == ["breathing", "fainting"]
    breathing = questions["breathing"]
    assert breathing.reached == 5
    assert dict(breathing.replies) == {
        "not understood": 2,
        "no": 3,
        "unsure": 1,
        "yes": 1,
        "unconfirmed": 1,
        "other": 1,
    }
    assert questions["fainting"].reached == 3
    assert dict(questions["fainting"].replies) == {"yes": 1, "no": 2}


def test_time_to_outcome_is_median_and_90th_percentile_without_abandoned_calls() -> None:
    """Over 20, 40, 60, 100 and 200 s: median 60 s, 90th percentile 200 s (nearest rank); per
    outcome as well; the abandoned call's 5 s is left out."""
    timings = _summary().time_to_outcome()
    assert (timings["all"].count, timings["all"].median, timings["all"].p90) == (5, 60.0, 200.0)
    assert (timings["emergency"].median, timings["emergency"].p90) == (30.0, 40.0)
    assert (timings["appointment"].median, timings["appointment"].p90) == (150.0, 200.0)
    assert "abandoned" not in timings
    assert "handoff" not in timings


def test_nearest_rank_percentile() -> None:
    """Ten durations 1..10: the 90th percentile is 9; one duration is its own median and p90."""
    ten = timing(list(range(10, 0, -1)))
    assert ten is not None
    assert (ten.median, ten.p90) == (5.5, 9.0)
    one = timing([7])
    assert one is not None
    assert (one.median, one.p90) == (7.0, 7.0)
    assert timing([]) is None


def test_the_table_shows_questions_and_times() -> None:
    """The table has a row per question with reached and each reply class, and the times."""
    table = as_table(_summary())
    assert "all          median 1 min 00 s, 90th percentile 3 min 20 s, over 5" in table
    breathing = next(line for line in table.splitlines() if line.strip().startswith("breathing"))
    assert breathing.split() == ["breathing", "5", "1", "3", "1", "2", "1", "0", "0", "0", "1"]
    header = next(line for line in table.splitlines() if line.strip().startswith("question"))
    assert header.split()[:5] == ["question", "reached", "yes", "no", "unsure"]


def test_the_csv_has_a_section_for_each_part() -> None:
    """Outcomes by day, channel, language; per question and measure; time to outcome in seconds."""
    rows = list(csv.DictReader(io.StringIO(as_csv(_summary()))))
    assert {r["section"] for r in rows} == {"outcomes", "questions", "time_to_outcome"}
    questions = {(r["question"], r["measure"]): r["value"] for r in rows if r["section"] == "questions"}
    assert questions[("breathing", "reached")] == "5"
    assert questions[("breathing", "not understood")] == "2"
    assert questions[("fainting", "unsure")] == "0"
    times = {(r["outcome"], r["measure"]): r["value"] for r in rows if r["section"] == "time_to_outcome"}
    assert times[("all", "median_seconds")] == "60"
    assert times[("all", "p90_seconds")] == "200"
    assert times[("emergency", "conversations")] == "2"
    outcomes = [r for r in rows if r["section"] == "outcomes"]
    assert sum(int(r["value"]) for r in outcomes) == len(RECORDS)


def test_the_html_has_a_chart_of_replies_per_question() -> None:
    """The page holds the per-question table and a chart with a bar part per reply class."""
    page = as_html(_summary())
    assert "Replies per question" in page
    assert "<title>breathing: 2 not understood</title>" in page
    assert "<title>fainting: 1 yes</title>" in page
    assert "Time to an outcome: all" in page
    assert "<script" not in page


def test_nothing_personal_reaches_any_format() -> None:
    """The keyed hash of the caller is in every record and in no output."""
    summary = _summary()
    for text in (as_table(summary), as_csv(summary), as_html(summary)):
        assert CALLER not in text


def test_an_empty_period_renders() -> None:
    """No records: every format still renders, saying there is nothing."""
    empty = summarize([])
    assert "Per question" in as_table(empty)
    assert as_csv(empty).splitlines() == ["section,day,channel,language,outcome,question,measure,value"]
    assert "No replies in this period." in as_html(empty)


def test_durations_read_at_a_glance() -> None:
    """Under a minute in seconds; beyond, minutes and two-digit seconds."""
    assert [seconds(v) for v in (0, 59.4, 60, 125)] == ["0 s", "59 s", "1 min 00 s", "2 min 05 s"]


def test_every_outcome_kind_of_the_flow_is_counted_and_drawn() -> None:
    """The flow's newer kinds (get seen today, not sure) have their count, time and colour, like the
    first ones: a report that left them out would under-count the line's most careful advice."""
    records = [*RECORDS, _record("unsure", "", "breathing=u", 30), _record("today", "urine=y", "urine=y", 90)]
    summary = summarize(records, since="2025-12-01", until="2025-12-01")
    assert summary.by_outcome["unsure"] == 1
    assert summary.by_outcome["today"] == 1
    assert "unsure" in as_table(summary)
    html = as_html(summary)
    assert "today" in html
    assert sum(summary.by_outcome.values()) == summary.total
