"""The case bank: patient cases run through a flow, by text and by keypad, against the advice expected.

A case says what a patient would answer yes (or "not sure") to, and the disposition a clinician
expects: call 911, go to an emergency department now, be seen today, or make an appointment. Each
case is walked through the engine as a texter (answering "yes", "no", "not sure") and as a caller
(pressing 1, 2 or 3), every question it is asked answered from its facts; what the line advised is
ranked against what was expected (exact, over-triage, under-triage) and tallied in a confusion
matrix. `ivr flows validate` prints it; `make test` holds the shipped flow to its case bank.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from ivr.core import engine
from ivr.core.engine import Input
from ivr.core.flow import Flow
from ivr.core.session import Channel
from ivr.flows.flowfile import load_flow

Disposition = Literal["emergency", "er_now", "today", "appointment", "crisis"]
# From most to least urgent. An outcome's kind ranks as the disposition it advises: "not sure"
# and the safety outcome both tell the person to call 911 now.
DISPOSITIONS: tuple[Disposition, ...] = ("emergency", "er_now", "today", "appointment")
ADVICE_OF_KIND: dict[str, Disposition] = {
    "emergency": "emergency",
    "unsure": "emergency",
    "safety": "emergency",
    "er_now": "er_now",
    "today": "today",
    "appointment": "appointment",
    "crisis": "crisis",
}
MAX_TURNS = 60


class CaseError(ValueError):
    """A case file that cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Case:
    """One patient: what they would say yes or "not sure" to, and the advice a clinician expects."""

    id: str
    story: str
    expect: Disposition
    yes: frozenset[str]
    unsure: frozenset[str] = frozenset()
    lang: str = "en"
    opening: str = ""
    why: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    """One case through one channel: the advice given, and the questions asked on the way."""

    case: Case
    channel: Channel
    advice: Disposition
    asked: tuple[str, ...]

    @property
    def verdict(self) -> Literal["exact", "over", "under"]:
        """Exact, over-triage (more urgent than expected) or under-triage (less urgent)."""
        if self.advice == self.case.expect:
            return "exact"
        if "crisis" in (self.advice, self.case.expect):
            return "under"
        return "over" if _rank(self.advice) < _rank(self.case.expect) else "under"


@dataclass
class Results:
    """Every run, with the tallies a clinical lead reads."""

    runs: list[Run] = field(default_factory=list)

    def share(self, verdict: str) -> float:
        """The share of runs with this verdict."""
        return sum(r.verdict == verdict for r in self.runs) / len(self.runs) if self.runs else 0.0

    def matrix(self) -> dict[tuple[str, str], int]:
        """(expected, advised) -> runs."""
        return dict(Counter((r.case.expect, r.advice) for r in self.runs))

    def under_triaged(self, expected: Disposition) -> list[Run]:
        """Runs of cases expecting `expected` that got something less urgent."""
        return [r for r in self.runs if r.case.expect == expected and r.verdict == "under"]

    def at_least_as_urgent(self, expected: Disposition) -> float:
        """The share of runs expecting `expected` that got it, or something more urgent."""
        mine = [r for r in self.runs if r.case.expect == expected]
        return sum(r.verdict != "under" for r in mine) / len(mine) if mine else 1.0

    def questions_when(self, expected: Iterable[Disposition]) -> list[int]:
        """How many questions each run expecting one of `expected` was asked."""
        wanted = set(expected)
        return [len(r.asked) for r in self.runs if r.case.expect in wanted]


def _rank(advice: str) -> int:
    return DISPOSITIONS.index(advice) if advice in DISPOSITIONS else -1


def read_cases(path: Path) -> list[Case]:
    """The cases of one file, or every *.toml file of a folder."""
    if path.is_dir():
        return [c for file in sorted(path.glob("*.toml")) for c in read_cases(file)]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{path}: cannot read: {exc}") from exc
    cases: list[Case] = []
    for number, raw in enumerate(data.get("case", []), start=1):
        where = f"{path.name}: case {number}"
        try:
            expect = raw["expect"]
            if expect not in (*DISPOSITIONS, "crisis"):
                raise CaseError(f"{where}: expect must be one of {', '.join(DISPOSITIONS)} or crisis")
            cases.append(
                Case(
                    id=str(raw["id"]),
                    story=str(raw.get("story", "")),
                    expect=expect,
                    yes=frozenset(raw.get("yes", [])),
                    unsure=frozenset(raw.get("unsure", [])),
                    lang=str(raw.get("lang", "en")),
                    opening=str(raw.get("opening", "")),
                    why=str(raw.get("why", "")),
                )
            )
        except (KeyError, TypeError) as exc:
            raise CaseError(f"{where}: {exc!r} missing or malformed") from exc
    ids = Counter(c.id for c in cases)
    if twice := [i for i, n in ids.items() if n > 1]:
        raise CaseError(f"{path}: case ids used twice: {', '.join(twice)}")
    return cases


def check_cases(flow: Flow, cases: Sequence[Case]) -> list[str]:
    """Problems that make cases meaningless for a flow: questions it does not ask, languages it lacks."""
    problems: list[str] = []
    for case in cases:
        unknown = sorted((case.yes | case.unsure) - set(flow.questions))
        if unknown:
            problems.append(f"case {case.id}: no such question: {', '.join(unknown)}")
        if case.lang not in flow.languages:
            problems.append(f"case {case.id}: the flow has no language {case.lang!r}")
    return problems


def walk(flow: Flow, case: Case, channel: Channel) -> Run:
    """One case through the engine on one channel, every question answered from its facts."""
    opening = Input("text", case.opening) if channel == "sms" and case.opening else None
    session, output = engine.start(flow, channel, now=0, opening=opening)
    if channel == "sms" and not case.opening and case.lang != flow.default_language:
        switch = flow.words[case.lang].switch[0]
        session, output = engine.step(flow, session, Input("text", switch))
    elif channel == "voice" and case.lang != flow.default_language:
        key = flow.call_languages[case.lang].key
        session, output = engine.step(flow, session, Input("keys", key))
    asked: list[str] = []
    while output.outcome is None and len(asked) < MAX_TURNS:
        question = output.ask or ""
        asked.append(question)
        answer = "unsure" if question in case.unsure else "yes" if question in case.yes else "no"
        session, output = engine.step(flow, session, _said(flow, channel, case.lang, answer))
    kind = flow.outcomes[output.outcome].kind if output.outcome else "safety"
    return Run(case, channel, ADVICE_OF_KIND[kind], tuple(asked))


def _said(flow: Flow, channel: Channel, lang: str, answer: str) -> Input:
    if channel == "voice":
        return Input("keys", {"yes": "1", "no": "2", "unsure": "3"}[answer])
    words = {
        "en": {"yes": "yes", "no": "no", "unsure": "not sure"},
        "es": {"yes": "sí", "no": "no", "unsure": "no sé"},
    }
    return Input("text", words.get(lang, words["en"])[answer])


def run(flow: Flow, cases: Sequence[Case]) -> Results:
    """Every case, by text and by keypad."""
    results = Results()
    for case in cases:
        for channel in ("sms", "voice"):
            results.runs.append(walk(flow, case, channel))
    return results


def print_results(results: Results, stream: TextIO) -> None:
    """The confusion matrix, the shares, and each miss."""
    kinds = [*DISPOSITIONS, "crisis"]
    matrix = results.matrix()
    print(f"{len(results.runs)} runs ({len(results.runs) // 2} cases, by text and by keypad)", file=stream)
    print("expected \\ advised " + "".join(f"{k:>12}" for k in kinds), file=stream)
    for expected in kinds:
        row = [matrix.get((expected, advised), 0) for advised in kinds]
        if any(row):
            print(f"{expected:<18} " + "".join(f"{n:>12}" for n in row), file=stream)
    print(
        f"exact {results.share('exact'):.0%}, over-triage {results.share('over'):.0%}, "
        f"under-triage {results.share('under'):.0%}",
        file=stream,
    )
    for expected in DISPOSITIONS[:3]:
        print(f"  {expected}: {results.at_least_as_urgent(expected):.0%} got it or more urgent", file=stream)
    routine = sorted(results.questions_when(["appointment"]))
    if routine:
        print(
            f"  questions asked when an appointment was expected: median {routine[len(routine) // 2]}",
            file=stream,
        )
    for r in results.runs:
        if r.verdict != "exact":
            print(
                f"  {r.verdict}-triage: {r.case.id} [{r.channel}] expected {r.case.expect}, advised"
                f" {r.advice} after {len(r.asked)} questions: {r.case.story}",
                file=stream,
            )


# The bar a flow must clear on its case bank (issue 23): no emergency advised anything less, at
# least 80% of runs exact, and at least 80% of the runs of each lesser level given that level or a
# more urgent one.
MIN_EXACT = 0.8
MIN_AT_LEAST_AS_URGENT = 0.8


def clears_the_bar(results: Results) -> bool:
    """Whether the results meet the bar above."""
    return (
        not results.under_triaged("emergency")
        and results.share("exact") >= MIN_EXACT
        and all(results.at_least_as_urgent(level) >= MIN_AT_LEAST_AS_URGENT for level in DISPOSITIONS)
    )


def run_cases(flow_file: Path, paths: Sequence[Path], *, stream: TextIO | None = None) -> int:
    """`ivr flows validate`: 0 when the flow clears the bar on its cases, else 1 (each miss is
    printed either way)."""
    stream = stream or sys.stdout
    flow = load_flow(flow_file).bind(emergency_number="911", booking_url=None)
    cases = [c for p in paths for c in read_cases(p)]
    problems = check_cases(flow, cases)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    results = run(flow, cases)
    print_results(results, stream)
    if not clears_the_bar(results):
        print(
            "below the bar: no emergency advised less, at least 80% exact, at least 80% of each level"
            " given it or more urgent",
            file=stream,
        )
        return 1
    return 0
