"""`ivr report` as a table for the terminal, CSV for spreadsheets, or a self-contained HTML page."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Sequence

from ivr.ops.report import OUTCOMES, REPLIES, Summary, Timing

COLOURS = {
    "emergency": "#c62828",
    "er_now": "#ad1457",
    "unsure": "#e65100",
    "crisis": "#4527a0",
    "today": "#6a1b9a",
    "appointment": "#2e7d32",
    "safety": "#b08800",
    "handoff": "#1565c0",
    "abandoned": "#9e9e9e",
}
REPLY_COLOURS = {
    "yes": "#c62828",
    "no": "#2e7d32",
    "unsure": "#ef6c00",
    "not understood": "#b08800",
    "unconfirmed": "#6a1b9a",
    "emergency": "#8e0000",
    "urgent": "#ad1457",
    "crisis": "#4527a0",
    "other": "#9e9e9e",
}


def _period(summary: Summary) -> str:
    return f"{summary.since or 'the start'} to {summary.until or 'now'}"


def _counts(counter: Counter[str], order: Sequence[str]) -> str:
    return ", ".join(f"{key} {counter[key]}" for key in order if counter[key]) or "-"


def seconds(value: float) -> str:
    """A duration people read at a glance: 45 s, 3 min 05 s."""
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def _timing(t: Timing) -> str:
    return f"median {seconds(t.median)}, 90th percentile {seconds(t.p90)}, over {t.count}"


def as_table(summary: Summary) -> str:
    """The summary as a plain-text table."""
    lines = [f"Triage outcomes, {_period(summary)}", ""]
    lines.append(f"  conversations        {summary.total}")
    lines.append(f"  reached an outcome   {summary.completed}")
    emergencies = summary.by_outcome["emergency"]
    lines.append(f"  emergencies          {emergencies} ({summary.emergency_share:.1%} of outcomes)")
    lines.append(f"  abandoned calls      {summary.by_outcome['abandoned']}")
    top = summary.top_yes
    lines.append(f"  most common yes      {f'{top[0]} ({top[1]})' if top else '-'}")
    lines.append("")
    lines.append("  by outcome:  " + _counts(summary.by_outcome, OUTCOMES))
    lines.append("  by channel:  " + _counts(summary.by_channel, sorted(summary.by_channel)))
    lines.append("  by language: " + _counts(summary.by_language, sorted(summary.by_language)))
    lines.append("")
    lines.append("  day          " + "".join(f"{o:>12}" for o in OUTCOMES))
    for day in sorted(summary.by_day):
        counts = summary.by_day[day]
        lines.append(f"  {day}   " + "".join(f"{counts[o]:>12}" for o in OUTCOMES))
    lines.append("")
    lines.append("Time to an outcome (from the first message; abandoned calls left out)")
    timings = summary.time_to_outcome()
    for name, t in timings.items():
        lines.append(f"  {name:<12} {_timing(t)}")
    if not timings:
        lines.append("  -")
    lines.append("")
    lines.append("Per question: conversations that replied to it, and every reply by how it was taken")
    width = max([len("question"), *map(len, summary.questions)])
    lines.append(f"  {'question':<{width}} {'reached':>8}" + "".join(f"{r:>16}" for r in REPLIES))
    for question, stats in summary.questions.items():
        lines.append(
            f"  {question:<{width}} {stats.reached:>8}" + "".join(f"{stats.replies[r]:>16}" for r in REPLIES)
        )
    if not summary.questions:
        lines.append("  -")
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("section", "day", "channel", "language", "outcome", "question", "measure", "value")


def as_csv(summary: Summary) -> str:
    """One table in long form, for spreadsheets: filter on `section` (outcomes, one row per day,
    channel, language and outcome; questions, one row per question and measure; time_to_outcome,
    one row per outcome and statistic, in seconds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for (day, channel, lang, outcome), count in sorted(summary.rows.items()):
        writer.writerow(["outcomes", day, channel, lang, outcome, "", "conversations", count])
    for question, stats in summary.questions.items():
        writer.writerow(["questions", "", "", "", "", question, "reached", stats.reached])
        for reply in REPLIES:
            writer.writerow(["questions", "", "", "", "", question, reply, stats.replies[reply]])
    for name, t in summary.time_to_outcome().items():
        writer.writerow(["time_to_outcome", "", "", "", name, "", "conversations", t.count])
        writer.writerow(["time_to_outcome", "", "", "", name, "", "median_seconds", f"{t.median:g}"])
        writer.writerow(["time_to_outcome", "", "", "", name, "", "p90_seconds", f"{t.p90:g}"])
    return out.getvalue()


def as_html(summary: Summary) -> str:
    """A self-contained page (no scripts, no external files) with charts of outcomes per day and of
    the replies to each question."""
    e = html.escape
    top = summary.top_yes
    facts = [
        ("Conversations", str(summary.total)),
        ("Reached an outcome", str(summary.completed)),
        ("Emergencies", f"{summary.by_outcome['emergency']} ({summary.emergency_share:.1%} of outcomes)"),
        ("Abandoned calls", str(summary.by_outcome["abandoned"])),
        ("Most common yes", f"{top[0]} ({top[1]})" if top else "none"),
        ("By channel", _counts(summary.by_channel, sorted(summary.by_channel))),
        ("By language", _counts(summary.by_language, sorted(summary.by_language))),
    ]
    facts += [(f"Time to an outcome: {name}", _timing(t)) for name, t in summary.time_to_outcome().items()]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts)
    legend = _legend(COLOURS, OUTCOMES)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Triage outcomes, {e(_period(summary))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
@media (max-width: 40rem) {{ body {{ margin: 1rem; }} }}
.wide {{ overflow-x: auto; max-width: 100%; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
th, td {{ text-align: left; padding: .25rem 1rem .25rem 0; }}
td.n {{ text-align: right; }}
.key {{ margin-right: 1rem; display: inline-block; }}
.key i {{ display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; }}
</style></head>
<body>
<h1>Triage outcomes</h1>
<p>{e(_period(summary))}</p>
<div class="wide"><table>{rows}</table></div>
<h2>Outcomes per day</h2>
<p>{legend}</p>
<div class="wide">{_outcomes_chart(summary)}</div>
<h2>Replies per question</h2>
<p>Reached: conversations that replied to the question at least once. Every reply is counted by how
it was taken, so a person asked again after a reply not understood counts twice.</p>
<div class="wide">{_questions_table(summary)}</div>
<p>{_legend(REPLY_COLOURS, REPLIES)}</p>
<div class="wide">{_questions_chart(summary)}</div>
</body></html>
"""


def _legend(colours: dict[str, str], order: Sequence[str]) -> str:
    e = html.escape
    return "".join(f'<span class="key"><i style="background:{colours[k]}"></i>{e(k)}</span>' for k in order)


def _questions_table(summary: Summary) -> str:
    if not summary.questions:
        return "<p>No replies in this period.</p>"
    e = html.escape
    head = "<tr><th>Question</th><th>Reached</th>" + "".join(f"<th>{e(r)}</th>" for r in REPLIES) + "</tr>"
    body = "".join(
        f"<tr><td>{e(q)}</td><td class=n>{s.reached}</td>"
        + "".join(f"<td class=n>{s.replies[r]}</td>" for r in REPLIES)
        + "</tr>"
        for q, s in summary.questions.items()
    )
    return f"<table>{head}{body}</table>"


def _questions_chart(summary: Summary) -> str:
    """One horizontal bar per question, split by how its replies were taken, as inline SVG."""
    if not summary.questions:
        return ""
    widest = max(sum(s.replies.values()) for s in summary.questions.values()) or 1
    label, bar, gap, length = 140, 18, 8, 420
    height = len(summary.questions) * (bar + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label + length + 60}" height="{height}" '
        'role="img" aria-label="Replies per question">'
    ]
    for i, (question, stats) in enumerate(summary.questions.items()):
        y = 5 + i * (bar + gap)
        parts.append(
            f'<text x="{label - 6}" y="{y + bar - 5}" font-size="11" text-anchor="end">'
            f"{html.escape(question)}</text>"
        )
        x = float(label)
        for reply in REPLIES:
            count = stats.replies[reply]
            if not count:
                continue
            w = count / widest * length
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{REPLY_COLOURS[reply]}">'
                f"<title>{html.escape(question)}: {count} {html.escape(reply)}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 5}" font-size="10">{stats.reached}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _outcomes_chart(summary: Summary) -> str:
    """Stacked bars, one per day, drawn as inline SVG."""
    days = sorted(summary.by_day)
    if not days:
        return "<p>No conversations in this period.</p>"
    tallest = max(sum(summary.by_day[d].values()) for d in days)
    bar, gap, height, top = 28, 10, 220, 20
    width = len(days) * (bar + gap) + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 70}" role="img" '
        f'aria-label="Outcomes per day">'
    ]
    parts.append(f'<text x="0" y="{top - 6}" font-size="11">{tallest}</text>')
    for i, day in enumerate(days):
        x = 40 + i * (bar + gap)
        y = float(top + height)
        for outcome in OUTCOMES:
            count = summary.by_day[day][outcome]
            if not count:
                continue
            h = count / tallest * height
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" fill="{COLOURS[outcome]}">'
                f"<title>{html.escape(day)}: {count} {outcome}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2}" y="{top + height + 14}" font-size="10" text-anchor="end" '
            f'transform="rotate(-45 {x + bar / 2} {top + height + 14})">{html.escape(day[5:])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
