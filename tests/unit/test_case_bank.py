"""The case bank: patient cases through the flow by text and by keypad, against the advice expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.authoring.cases import Case, clears_the_bar, read_cases, run, walk
from ivr.cli import main
from ivr.config import PACKAGED_FLOWS
from tests.support import SHIPPED, shipped_flow, tiny_flow

FLOW = shipped_flow()
CASES = read_cases(PACKAGED_FLOWS / "cases")


def test_the_shipped_case_bank_is_large_and_covers_every_level_and_language() -> None:
    """At least 60 cases, every disposition, English and Spanish, every question of the flow named."""
    assert len(CASES) >= 60
    assert {c.expect for c in CASES} == {"emergency", "er_now", "today", "appointment"}
    assert {c.lang for c in CASES} == {"en", "es"}
    assert {q for c in CASES for q in c.yes} <= set(FLOW.questions)


def test_the_shipped_flow_clears_the_bar_on_its_case_bank() -> None:
    """No emergency advised anything less, at least 80% exact, and at least 80% of the cases of
    each lesser level given it or something more urgent, by text and by keypad alike."""
    results = run(FLOW, CASES)
    assert results.under_triaged("emergency") == []
    assert results.share("exact") >= 0.8
    for level in ("er_now", "today", "appointment"):
        assert results.at_least_as_urgent(level) >= 0.8, level
    assert clears_the_bar(results)
    by_channel = {(r.case.id, r.channel): r.advice for r in results.runs}
    assert all(by_channel[(c.id, "sms")] == by_channel[(c.id, "voice")] for c in CASES)


def test_a_patient_with_no_red_flag_is_asked_no_more_questions_than_before() -> None:
    """Issue 23's burden: the median number of questions for a patient who needs an appointment
    stays at 12 or fewer (12 before the same-day and emergency-department signs were added)."""
    asked = sorted(run(FLOW, CASES).questions_when(["appointment"]))
    assert asked[len(asked) // 2] <= 12


@pytest.mark.parametrize(
    ("yes", "expect", "advice", "verdict"),
    [
        ((), "appointment", "appointment", "exact"),
        (("q2",), "emergency", "emergency", "exact"),
        (("q1",), "appointment", "emergency", "over"),
        ((), "emergency", "appointment", "under"),
    ],
)
def test_a_run_is_judged_against_the_expected_advice(
    yes: tuple[str, ...], expect: str, advice: str, verdict: str
) -> None:
    """Each question answered from the case's facts; the advice ranked against the expected one."""
    case = Case("c", "a story", expect, frozenset(yes))  # type: ignore[arg-type]
    for channel in ("sms", "voice"):
        done = walk(tiny_flow(), case, channel)
        assert (done.advice, done.verdict) == (advice, verdict)
        assert done.asked[0] == "q1"


def test_ivr_flows_validate_passes_the_shipped_flow_and_fails_an_under_triaging_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr flows validate` prints the confusion matrix and exits 0 on the shipped flow and bank; a
    bank whose emergency the flow advises less gets exit 1 and the miss named."""
    assert main(["flows", "validate"]) == 0
    out = capsys.readouterr().out
    assert "expected \\ advised" in out
    assert "exact " in out
    bank = tmp_path / "bank.toml"
    bank.write_text('[[case]]\nid = "hidden"\nstory = "no sign at all"\nexpect = "emergency"\n')
    assert main(["flows", "validate", str(bank), "--flow", str(SHIPPED)]) == 1
    assert "under-triage: hidden" in capsys.readouterr().out
