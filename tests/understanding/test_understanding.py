"""How the line handles replies it was not trained on, judged as a triage nurse would.

The sets here are never trained on (flows/answers/train holds what is): the earlier corpus's
held-out lines, a development set written by a reviewer who had not seen the rules, and five blind
sets, each written by another who had seen neither the rules, the training data nor the other sets,
and scored once on the model frozen before it was written (CLINICAL.md has those figures; their
misses were read and fixed by general rules afterwards, so here they guard against regressions).
Each must clear the bar of issue 26 as the line stands: at least 95% handled as a nurse would, no
red-flag yes, emergency, urgent sign or crisis taken as a no, every crisis to the crisis outcome,
and fewer than 3% of plain noes asked again. `ivr answers eval FILE` prints the same figures with
every miss.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import PACKAGED_FLOWS
from ivr.training.data import read_examples
from ivr.training.evaluate import evaluate
from tests.support import shipped_flow

HERE = Path(__file__).parent
FLOW = shipped_flow()
HELD_OUT = sorted(HERE.glob("*.tsv"))
TRAINING_DATA = PACKAGED_FLOWS / "answers" / "train"

MIN_HANDLED = 0.95
MAX_NOES_ASKED_AGAIN = 0.03
MAX_SHARED_WITH_TRAINING = 0.05
MAX_COMMON_WORDS = 3  # replies this short are ones any writer writes


def test_the_held_out_sets_are_there_and_large() -> None:
    """The corpus's held-out lines, the development set and the twenty blind sets held to the bar,
    together over 10,500 replies, English and Spanish, texts and speech."""
    names = {p.name for p in HELD_OUT}
    assert {
        "corpus-test.tsv",
        "dev.tsv",
        "blind-1.tsv",
        "blind-2.tsv",
        "blind-3.tsv",
        "blind-4.tsv",
        "blind-5.tsv",
        "blind-6.tsv",
        "blind-7.tsv",
        "blind-8.tsv",
        "blind-9.tsv",
        "blind-10.tsv",
        "blind-11.tsv",
        "blind-12.tsv",
        "blind-13.tsv",
        "blind-14.tsv",
        "blind-15.tsv",
        "blind-16.tsv",
        "blind-17.tsv",
        "blind-18.tsv",
        "blind-19.tsv",
        "blind-20.tsv",
    } <= names
    examples = [e for p in HELD_OUT for e in read_examples(p)]
    assert len(examples) >= 10500
    assert {(e.lang, e.channel) for e in examples} == {
        ("en", "sms"),
        ("en", "voice"),
        ("es", "sms"),
        ("es", "voice"),
    }


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.stem for p in HELD_OUT])
def test_held_out_lines_are_not_the_training_data(path: Path) -> None:
    """Under 5% of a held-out set's replies longer than three words are word for word in the
    training data (same question, same text). Independent writers coincide on the commonest short
    replies ("no", "nah", "hello?": 6% of blind set 5, whose writer read nothing of the project),
    so those are left out of the count and the sets are kept as written; a set built from the
    training data would share far more of its longer replies (the five blind sets: 0.4% to 1.9%)."""
    trained = {
        (e.topic, e.text.casefold()) for p in sorted(TRAINING_DATA.glob("*.tsv")) for e in read_examples(p)
    }
    longer = [e for e in read_examples(path) if len(e.text.split()) > MAX_COMMON_WORDS]
    shared = [e.where for e in longer if (e.topic, e.text.casefold()) in trained]
    print(f"\n{path.name}: {len(shared)} of {len(longer)} longer lines also in training: {shared}")
    assert len(shared) / len(longer) < MAX_SHARED_WITH_TRAINING


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.stem for p in HELD_OUT])
def test_replies_never_trained_on_are_handled_as_a_nurse_would(path: Path) -> None:
    """At least 95% handled as a nurse would; none of the replies that call for 911, the emergency
    department or the crisis line taken as a no; every crisis to the crisis outcome; under 3% of
    plain noes asked again."""
    figures = evaluate(FLOW, read_examples(path))
    misses = [
        f"{j.example.where} {j.example.label}: {j.example.text!r} -> {j.did}"
        for j in figures.judged
        if not j.handled
    ]
    print(
        f"\n{path.name}: {figures.handled}/{figures.total} ({figures.accuracy:.1%}); misses:\n"
        + "\n".join(misses)
    )
    assert [j.example.where for j in figures.alarms_taken_as_no] == []
    assert [j.example.where for j in figures.crisis_missed] == []
    assert figures.accuracy >= MIN_HANDLED
    if figures.noes:
        assert len(figures.noes_asked_again) / figures.noes < MAX_NOES_ASKED_AGAIN
