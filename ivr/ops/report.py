"""What the line advised, for the people who run it: counts from the audit stream as a table, CSV or HTML."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.store.audit import AuditRecord

OUTCOMES = ("emergency", "appointment", "safety", "handoff", "abandoned")
COLOURS = {
    "emergency": "#c62828",
    "appointment": "#2e7d32",
    "safety": "#b08800",
    "handoff": "#1565c0",
    "abandoned": "#9e9e9e",
}


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class Summary:
    """Counts over a period. `completed` excludes abandoned calls."""

    since: str
    until: str
    total: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_day: dict[str, Counter[str]] = field(default_factory=dict)
    yes_by_question: Counter[str] = field(default_factory=Counter)
    rows: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)

    @property
    def completed(self) -> int:
        return self.total - self.by_outcome["abandoned"]

    @property
    def emergency_share(self) -> float:
        """Emergency outcomes among triages that reached an outcome."""
        return self.by_outcome["emergency"] / self.completed if self.completed else 0.0

    @property
    def top_yes(self) -> tuple[str, int] | None:
        return self.yes_by_question.most_common(1)[0] if self.yes_by_question else None


def summarize(records: Sequence[AuditRecord], *, since: str = "", until: str = "") -> Summary:
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
    return summary


def _period(summary: Summary) -> str:
    return f"{summary.since or 'the start'} to {summary.until or 'now'}"


def as_table(summary: Summary) -> str:
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
    return "\n".join(lines) + "\n"


def _counts(counter: Counter[str], order: Sequence[str]) -> str:
    return ", ".join(f"{key} {counter[key]}" for key in order if counter[key]) or "-"


def as_csv(summary: Summary) -> str:
    """One row per day, channel, language and outcome, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "channel", "language", "outcome", "count"])
    for (day, channel, lang, outcome), count in sorted(summary.rows.items()):
        writer.writerow([day, channel, lang, outcome, count])
    return out.getvalue()


def as_html(summary: Summary) -> str:
    """A self-contained page (no scripts, no external files) with a chart of outcomes per day."""
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
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts)
    legend = "".join(
        f'<span class="key"><i style="background:{COLOURS[o]}"></i>{e(o)}</span>' for o in OUTCOMES
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Triage outcomes, {e(_period(summary))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
th, td {{ text-align: left; padding: .25rem 1rem .25rem 0; }}
.key {{ margin-right: 1rem; }}
.key i {{ display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; }}
</style></head>
<body>
<h1>Triage outcomes</h1>
<p>{e(_period(summary))}</p>
<table>{rows}</table>
<h2>Outcomes per day</h2>
<p>{legend}</p>
{_chart(summary)}
</body></html>
"""


def _chart(summary: Summary) -> str:
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
