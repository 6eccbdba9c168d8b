"""The flow checker: the shipped flows pass, and each rule catches a flow broken in just that way."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ivr.authoring.checker import check_file, check_paths
from ivr.cli import main
from ivr.config import PACKAGED_FLOWS
from tests.support import FIXTURES

Mutation = Callable[[dict[str, Any]], None]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def _dump(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer: enough for flow files (tables of strings, lists, numbers, booleans)."""
    lines = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f'"{key}" = {_toml_value(value)}')
    out = "\n".join(lines) + "\n"
    for key, value in tables:
        name = f'{prefix}."{key}"' if prefix else f'"{key}"'
        out += f"\n[{name}]\n" + _dump(value, name)
    return out


def broken_fixture(tmp_path: Path, mutate: Mutation) -> Path:
    """The tiny fixture flow with one thing broken, written as a flow file."""
    data = tomllib.loads((FIXTURES / "tiny.toml").read_text())
    mutate(data)
    path = tmp_path / "broken.toml"
    path.write_text(_dump(data), encoding="utf-8")
    return path


def _add_orphan(d: dict[str, Any]) -> None:
    d["questions"]["q3"] = {
        "red_flag": True,
        "text": {"en": "Q3?", "es": "¿P3?"},
        "yes": "urgent",
        "no": "visit",
    }


def _loop(d: dict[str, Any]) -> None:
    d["questions"]["q2"]["no"] = "q1"


def _trap(d: dict[str, Any]) -> None:
    d["questions"]["q2"].update(yes="q3", no="q3")
    d["questions"]["q3"] = {"text": {"en": "Q3?", "es": "¿P3?"}, "yes": "q2", "no": "q2"}


def _same_day(wording: list[str]) -> Mutation:
    """A lesser sign (not a red flag) after q2 whose yes leads to a get-seen-today outcome."""

    def mutate(d: dict[str, Any]) -> None:
        d["questions"]["q2"]["no"] = "q3"
        d["questions"]["q3"] = {"text": {"en": "Q3?", "es": "¿P3?"}, "yes": "sameday", "no": "visit"}
        spanish = ["Vea hoy a un médico.", *(["Llame al {emergency} si hay alarma."] * (len(wording) - 1))]
        d["outcomes"]["sameday"] = {"kind": "today", "text": {"en": wording, "es": spanish}}

    return mutate


def _er_now(wording: list[str]) -> Mutation:
    """A sign for the emergency department after q2, with its outcome worded as given (English)."""

    def mutate(d: dict[str, Any]) -> None:
        d["questions"]["q2"]["no"] = "q3"
        d["questions"]["q3"] = {
            "text": {"en": "Q3?", "es": "¿P3?"},
            "yes": "ernow",
            "no": "visit",
            "named": {"en": ["q three"], "es": ["p tres"]},
        }
        spanish = [
            "Vaya ahora a la sala de emergencias.",
            *(["Llame al {emergency} si hay alarma."] * (len(wording) - 1)),
        ]
        d["outcomes"]["ernow"] = {"kind": "er_now", "text": {"en": wording, "es": spanish}}

    return mutate


def _crisis(wording: list[str]) -> Mutation:
    """A crisis outcome worded as given (English)."""

    def mutate(d: dict[str, Any]) -> None:
        spanish = [
            "Llame o escriba al {crisis}.",
            *(["Si corre peligro, llame al {emergency} ahora."] * (len(wording) - 1)),
        ]
        d["outcomes"]["crisis"] = {"kind": "crisis", "text": {"en": wording, "es": spanish}}

    return mutate


def _phrases_nowhere(d: dict[str, Any]) -> None:
    """q2 stops being a red flag, its yes asks q1 again, and it has free-text phrases."""
    d["questions"]["q2"].update(red_flag=False, yes="q3", phrases={"en": ["q two"]})
    d["questions"]["q3"] = {"text": {"en": "Q3?", "es": "¿P3?"}, "yes": "q1", "no": "q1"}


def _long_help(d: dict[str, Any]) -> None:
    """A help text and a nurse offer so long that, with the question, they take three messages."""
    d["text"]["help"].update(en="Call {emergency} now if urgent. " + "a" * 250)
    d["text"]["nurse_offer"].update(en="Nurse: press 0. " + "b" * 280)


def _doubt(wording: list[str]) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        d["outcomes"]["doubt"] = {
            "kind": "unsure",
            "text": {"en": wording, "es": ["Si duda, llame al {emergency} ahora."]},
        }

    return mutate


CASES: dict[str, tuple[Mutation, str, str, str]] = {
    # rule: (how the fixture is broken, rule reported, node named, language named)
    "unreachable node": (_add_orphan, "unreachable", "q3", ""),
    "a path that loops forever": (_loop, "no-outcome", "q1", ""),
    "a cycle with no exit": (_trap, "no-outcome", "q2", ""),
    "red flag yes not to emergency": (
        lambda d: d["questions"]["q1"].update(yes="visit"),
        "red-flag-yes",
        "q1",
        "",
    ),
    "emergency outcome not led by call-now": (
        lambda d: d["outcomes"]["urgent"]["text"].update(en=["Please take care.", "Call {emergency} now."]),
        "call-now",
        "urgent",
        "en",
    ),
    "spoken emergency outcome not led by call-now": (
        lambda d: d["outcomes"]["urgent"]["text"]["voice"].update(en=["Stay calm. Call {emergency} now."]),
        "call-now",
        "urgent",
        "en",
    ),
    "first message without the emergency notice": (
        lambda d: d["text"]["intro"].update(es="Hola. Conteste unas preguntas."),
        "intro-notice",
        "text.intro",
        "es",
    ),
    "text missing in a declared language": (
        lambda d: d["questions"]["q2"]["text"].pop("es"),
        "missing-text",
        "questions.q2.text.es",
        "es",
    ),
    "Spanish message over two UCS-2 segments": (
        lambda d: d["questions"]["q2"]["text"].update(es="¿" + "Está " * 27 + "?"),
        "sms-length",
        "q2",
        "es",
    ),
    "English text that is not GSM-7": (
        lambda d: d["questions"]["q1"]["text"].update(en="Isn’t it hard to breathe?"),
        "gsm7",
        "q1",
        "en",
    ),
    "an outcome needing four messages": (
        lambda d: d["outcomes"]["visit"]["text"].update(
            en=["a" * 250, "b" * 250, "d" * 250, "c {emergency} red flags" + "c" * 200]
        ),
        "sms-messages",
        "visit",
        "en",
    ),
    "a question needing three messages": (
        _long_help,
        "sms-messages",
        "text.help",
        "en",
    ),
    "a list of signs that leaves out a red flag": (
        lambda d: d["outcomes"]["visit"]["text"].update(
            en=["See a provider.", "Tests.", "Call {emergency}."]
        ),
        "safety-list",
        "outcomes.visit",
        "en",
    ),
    "a red flag with no name for the lists": (
        lambda d: d["questions"]["q1"]["named"].pop("es"),
        "unnamed-sign",
        "questions.q1.named",
        "es",
    ),
    "a question about two things": (
        lambda d: d["questions"]["q2"]["text"].update(en="Is it A or B, or C?"),
        "one-topic",
        "questions.q2",
        "en",
    ),
    "an English text above grade 6": (
        lambda d: d["questions"]["q1"]["text"].update(
            en="Is the considerable deterioration of your respiratory musculature incapacitating today?"
        ),
        "reading-level",
        "questions.q1",
        "en",
    ),
    "a Spanish text harder than INFLESZ 65": (
        lambda d: d["questions"]["q1"]["text"].update(
            es="¿Experimenta usted actualmente dificultades respiratorias considerablemente incapacitantes"
            " durante la realización de actividades cotidianas?"
        ),
        "reading-level",
        "questions.q1",
        "es",
    ),
    "a translation with a part left out": (
        lambda d: d["outcomes"]["visit"]["text"].update(
            es=["Vea a un profesional.", "Red: llame al {emergency}."]
        ),
        "parity",
        "outcomes.visit",
        "es",
    ),
    "a translation with another number": (
        lambda d: d["outcomes"]["visit"]["text"].update(
            es=["Vea a un profesional en 2 días.", "Pruebas.", "Red: llame al {emergency} si hay alarma."]
        ),
        "parity",
        "outcomes.visit",
        "es",
    ),
    "an emergency-department outcome not led by go there now": (
        _er_now(["Rest at home.", "Call {emergency} for red flags."]),
        "er-now",
        "ernow",
        "en",
    ),
    "a crisis outcome that does not give the crisis line first": (
        _crisis(["Call {emergency} now.", "Or talk to {crisis}."]),
        "crisis-line",
        "crisis",
        "en",
    ),
    "a crisis outcome that never says to call for danger": (
        _crisis(["Call or text {crisis} to talk.", "You are not alone."]),
        "call-now",
        "crisis",
        "en",
    ),
    "free-text phrases on a question whose yes asks on": (
        _phrases_nowhere,
        "phrases-lead-nowhere",
        "questions.q2.phrases",
        "",
    ),
    "a voice prompt past the Say limit": (
        lambda d: d["questions"]["q1"]["text"].update(voice={"en": "Is it " + "very " * 700 + "hard?"}),
        "say-length",
        "q1",
        "en",
    ),
    "a phone number written into a spoken text": (
        lambda d: d["outcomes"]["urgent"]["text"]["voice"].update(
            es=["Cuelgue y llame al 911 ahora.", "E2."]
        ),
        "spoken-number",
        "outcomes.urgent",
        "es",
    ),
    "more speech hints than Twilio takes": (
        lambda d: d["words"]["es"]["emergency"].extend(f"frase {i}" for i in range(500)),
        "speech-hints",
        "words.es",
        "es",
    ),
    "a prompt asking for a carrier keyword": (
        lambda d: d["text"]["sms_answer_hint"].update(en="Reply Y or N, or STOP to end."),
        "reserved-word",
        "text.sms_answer_hint",
        "en",
    ),
    "a carrier keyword accepted as an answer": (
        lambda d: d["words"]["en"]["yes"].append("start"),
        "reserved-word",
        "words.en.yes",
        "en",
    ),
    "a word that means yes and no": (
        lambda d: d["words"]["es"]["yes"].append("n"),
        "ambiguous-answer",
        "words",
        "",
    ),
    "get-seen-today outcome not led by care today": (
        _same_day(["Rest and drink water.", "Call {emergency} if worse."]),
        "care-today",
        "sameday",
        "en",
    ),
    "unsure outcome not led by call-now": (
        _doubt(["You may want to call {emergency} at some point."]),
        "call-now",
        "doubt",
        "en",
    ),
    "a language without unsure phrases": (
        lambda d: d["words"]["es"].pop("unsure"),
        "no-unsure",
        "words.es.unsure",
        "es",
    ),
    "an answer phrase in two classes": (
        lambda d: d["words"]["en"]["unsure"].append("Yes"),
        "ambiguous-answer",
        "words",
        "",
    ),
    "a question's own phrase against the general words": (
        lambda d: d["questions"]["q1"].update(words={"en": {"no": ["not sure"]}}),
        "ambiguous-answer",
        "questions.q1.words.en",
        "en",
    ),
    "a carrier keyword as an unsure answer": (
        lambda d: d["words"]["en"]["unsure"].append("info"),
        "reserved-word",
        "words.en.unsure",
        "en",
    ),
    "a carrier keyword as a request for help": (
        lambda d: d["words"]["es"].update(help=["ayuda", "Help"]),
        "reserved-word",
        "words.es.help",
        "es",
    ),
    "an emergency phrase that cannot be matched": (
        lambda d: d["words"]["en"]["emergency"].append("... numb"),
        "phrase",
        "words.en.emergency",
        "en",
    ),
    "a red-flag phrase that cannot be matched": (
        lambda d: d["questions"]["q1"].update(phrases={"es": ["no puedo |"]}),
        "phrase",
        "questions.q1.phrases.es",
        "es",
    ),
    "a language callers cannot pick on a call": (
        lambda d: d.pop("call_languages"),
        "call-language-key",
        "call_languages.es",
        "es",
    ),
    "a language key that is the key for yes": (
        lambda d: d["call_languages"]["es"].update(key="1", offer="Español: 1."),
        "call-language-key",
        "call_languages.es.key",
        "es",
    ),
    "a language key that is the key for no": (
        lambda d: d["call_languages"]["es"].update(key="2", offer="Español: 2."),
        "call-language-key",
        "call_languages.es.key",
        "es",
    ),
    "a language key that is the nurse's": (
        lambda d: d["call_languages"]["es"].update(key="0", offer="Español: 0."),
        "call-language-key",
        "call_languages.es.key",
        "es",
    ),
    "two languages on one key": (
        lambda d: d["call_languages"].update(en={"key": "9", "offer": "English: 9."}),
        "call-language-key",
        "call_languages.en.key",
        "en",
    ),
    "a language key that is not one key of the keypad": (
        lambda d: d["call_languages"]["es"].update(key="99", offer="Español: 99."),
        "structure",
        "call_languages.es.key",
        "es",
    ),
    "a language offer that does not name its key": (
        lambda d: d["call_languages"]["es"].update(offer="Para español, oprima 8."),
        "call-language-offer",
        "call_languages.es.offer",
        "es",
    ),
    "an English opening longer than 10 seconds": (
        lambda d: d["text"]["intro"].update(
            {
                "voice": {
                    "en": "Hello. Emergency? Hang up, call {emergency} now. " + "Words to wait through. " * 4
                }
            }
        ),
        "call-opening-time",
        "text.intro",
        "en",
    ),
    "a Spanish notice that takes a Spanish caller past 15 seconds": (
        lambda d: d["text"]["intro"].update(
            {
                "voice": {
                    "en": "Hello. Emergency? Hang up, call {emergency} now.",
                    "es": "¿Emergencia? Cuelgue y llame al {emergency} ahora. " + "Palabras de espera. " * 7,
                }
            }
        ),
        "call-opening-time",
        "text.intro",
        "es",
    ),
}


def test_the_unbroken_fixture_passes() -> None:
    """The fixture every broken case starts from has no problems, so each case isolates one rule."""
    flow, problems = check_file(FIXTURES / "tiny.toml")
    assert flow is not None
    assert problems == []


def test_the_fixture_writer_round_trips(tmp_path: Path) -> None:
    """Writing the fixture back without changes gives a flow with the same content digest."""
    flow, problems = check_file(broken_fixture(tmp_path, lambda d: None))
    original, _ = check_file(FIXTURES / "tiny.toml")
    assert problems == []
    assert flow is not None
    assert original is not None
    assert flow.digest == original.digest


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_catches_its_broken_flow(tmp_path: Path, case: str) -> None:
    """The broken fixture fails with the rule, naming the file, the node and the language."""
    mutate, rule, node, lang = CASES[case]
    path = broken_fixture(tmp_path, mutate)
    _, problems = check_file(path)
    matching = [p for p in problems if p.rule == rule]
    assert matching, f"{case}: expected {rule}, got {[str(p) for p in problems]}"
    assert any(p.node == node and p.lang == lang and p.file == str(path) for p in matching), [
        str(p) for p in matching
    ]


def test_the_shipped_flows_pass() -> None:
    """Every flow in flows/ passes every rule."""
    flows, problems = check_paths([PACKAGED_FLOWS])
    assert [str(p) for p in problems] == []
    assert [f.id for f in flows] == ["muscle-weakness"]


def test_the_command_exits_nonzero_and_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr flows check PATH` prints each problem with file, node and language, and exits 1."""

    def two_problems(data: dict[str, Any]) -> None:
        _add_orphan(data)
        data["questions"]["q1"]["yes"] = "visit"

    path = broken_fixture(tmp_path, two_problems)
    assert main(["flows", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: q3: cannot be reached from the start (unreachable)" in out
    assert f"{path}: q1: yes leads to 'visit', not straight to an emergency outcome (red-flag-yes)" in out


def test_the_command_passes_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    """`ivr flows check` with no path checks flows/ and exits 0."""
    assert main(["flows", "check"]) == 0
    assert "all flows pass" in capsys.readouterr().out


def test_a_today_outcome_that_says_care_today_passes(tmp_path: Path) -> None:
    """The rule for the get-seen-today outcome accepts a first sentence that says it, in each language."""
    path = broken_fixture(
        tmp_path, _same_day(["Get medical care today: see a provider.", "Call {emergency} for red flags."])
    )
    flow, problems = check_file(path)
    assert flow is not None
    assert problems == []
    assert flow.outcomes["sameday"].kind == "today"


def test_an_unsure_outcome_must_be_reachable_and_is_from_any_red_flag(tmp_path: Path) -> None:
    """The unsure outcome hangs off every red flag (answered "not sure"), so it is never unreachable."""
    path = broken_fixture(tmp_path, _doubt(["Si no sabe, call {emergency} now."]))
    _, problems = check_file(path)
    assert [p for p in problems if p.rule == "unreachable"] == []
