"""Loading and validating flow files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from ivr.core.answers import Answer
from ivr.flows.flowfile import FlowError, load_flow, load_flows, parse_flow
from tests.support import FIXTURES, SHIPPED, red_flags, shipped_flow


def _tiny() -> dict[str, Any]:
    return tomllib.loads((FIXTURES / "tiny.toml").read_text())


def test_the_shipped_flow_loads_with_one_question_per_red_flag_from_the_source() -> None:
    """Eight red-flag questions, each of whose yes goes straight to the emergency outcome; four
    signs for the emergency department and four for same-day care, each yes to its outcome, and a
    fall, whose yes asks whether the head or neck was hurt (911) or not (the emergency
    department)."""
    flow = shipped_flow()
    assert flow.id == "muscle-weakness"
    assert len(red_flags(flow)) == 8
    for qid in red_flags(flow):
        assert flow.outcomes[flow.questions[qid].yes].kind == "emergency"
    kinds = [flow.outcomes[q.yes].kind for q in flow.questions.values() if q.yes in flow.outcomes]
    assert kinds.count("er_now") == 4
    assert kinds.count("today") == 4
    spine = flow.questions[flow.questions["fall"].yes]
    assert (flow.outcomes[spine.yes].kind, flow.outcomes[spine.no].kind) == ("emergency", "er_now")


def test_the_shipped_flow_asks_the_most_life_threatening_first() -> None:
    """Breathing, swallowing and loss of consciousness come before the other red flags."""
    assert shipped_flow().question_order()[:3] == ["breathing", "swallowing", "fainting"]


def test_every_error_is_reported_at_once() -> None:
    """A flow with several independent mistakes lists all of them in one FlowError."""
    data = _tiny()
    data["spec"] = 7
    data["questions"]["q1"]["yes"] = "nowhere"
    data["questions"]["q2"]["text"] = {"fr": "Q2?", "es": "¿P2?"}
    del data["text"]["wrong_key"]
    data["outcomes"]["urgent"]["text"]["en"] = ["Call {ambulance} now."]
    with pytest.raises(FlowError) as caught:
        parse_flow(data, source="broken")
    problems = "\n".join(str(p) for p in caught.value.problems)
    assert "spec: must be 1" in problems
    assert "questions.q1.yes: 'nowhere' is not a node" in problems
    assert "questions.q2.text.fr: language is not declared" in problems
    assert "questions.q2.text.en: missing" in problems
    assert "text.wrong_key: missing" in problems
    assert "unknown placeholder {ambulance}" in problems
    assert len(caught.value.problems) >= 6


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("start"), "start: missing"),
        (lambda d: d.update(start=""), "start: must be a non-empty string"),
        (lambda d: d.update(start="urgent"), "start: 'urgent' is not a question"),
        (lambda d: d.update(languages=[]), "languages: must be a non-empty list"),
        (lambda d: d["outcomes"]["unsure"].update(kind="maybe"), "outcomes.unsure.kind: must be one of"),
        (lambda d: d["outcomes"].pop("unsure"), "needs an outcome of kind 'safety'"),
        (
            lambda d: d["questions"]["q1"].update(red_flag="yes"),
            "questions.q1.red_flag: must be true or false",
        ),
        (lambda d: d["questions"]["q1"].update(colour="red"), "questions.q1.colour: unknown field"),
        (lambda d: d["limits"].update(sms_retries=-1), "limits.sms_retries: must be a whole number"),
        (lambda d: d["text"]["intro"].update(en=""), "text.intro.en: must be a non-empty string"),
        (
            lambda d: d["call_languages"]["es"].update(key=9),
            'call_languages.es.key: must be one key of the keypad, in quotes: "0" to "9"',
        ),
        (
            lambda d: d["call_languages"]["es"].update(key="2"),
            "call_languages.es.key: 2 is the key for no at every question",
        ),
        (
            lambda d: d["call_languages"].update(fr={"key": "8", "offer": "8"}),
            "call_languages.fr: language is",
        ),
        (lambda d: d["call_languages"]["es"].pop("offer"), "call_languages.es.offer: missing"),
        # The words' shapes are made from the core model's fields (ivr.flows.flowfile._schema).
        (lambda d: d["words"]["en"].update(emergency=[]), "words.en.emergency: must be a non-empty list"),
        (lambda d: d["words"]["en"].pop("negations"), "words.en.negations: missing"),
        (lambda d: d["words"]["en"].update(yes=[]), "words.en.yes: must be a non-empty list"),
        (lambda d: d["words"]["en"].update(colours=["red"]), "words.en.colours: unknown field"),
        (lambda d: d["words"]["en"].update(crisis=[""]), "words.en.crisis.0: must be a non-empty string"),
        (
            lambda d: d["questions"]["q1"].update(phrases_until_no={"en": ["... walk"]}),
            "questions.q1.phrases_until_no.en: cannot read phrase",
        ),
        (
            lambda d: d["questions"]["q1"].update(phrases_until_no={"fr": ["marcher"]}),
            "questions.q1.phrases_until_no.fr: language is not declared",
        ),
        (
            lambda d: d["questions"]["q1"].update(words={"en": {"maybe": ["perhaps"]}}),
            "questions.q1.words.en.maybe: unknown field",
        ),
    ],
)
def test_each_structural_mistake_is_named(change: Any, expected: str) -> None:
    """Each kind of mistake produces a message that names where it is."""
    data = _tiny()
    change(data)
    with pytest.raises(FlowError, match=expected.replace("(", r"\(").replace("{", r"\{")):
        parse_flow(data)


def test_digest_ignores_layout_and_comments_but_not_content(tmp_path: Path) -> None:
    """Reformatting a flow keeps its identity; changing a word gives it a new one."""
    original = SHIPPED.read_text()
    same = tmp_path / "same.toml"
    same.write_text("# a new comment\n\n" + original)
    changed = tmp_path / "changed.toml"
    changed.write_text(
        original.replace(
            "Did the weakness come on suddenly, over minutes or hours?", "Did it begin suddenly?"
        )
    )
    assert changed.read_text() != original
    shipped = load_flow(SHIPPED).digest
    assert load_flow(same, with_model=False).digest == shipped
    assert load_flow(changed, with_model=False).digest != shipped


def test_bind_fills_placeholders_and_drops_booking_without_a_link() -> None:
    """The emergency number is filled in everywhere; the booking part exists only with a URL."""
    with_link = shipped_flow(booking_url="https://book.example.org")
    without = shipped_flow()
    assert with_link.outcomes["appointment"].booking is not None
    assert "https://book.example.org" in with_link.outcomes["appointment"].booking.text("en", voice=False)
    assert without.outcomes["appointment"].booking is None
    assert without.outcomes["emergency"].wording.parts("en", voice=False)[0] == "Call 911 now."
    other = load_flow(SHIPPED).bind(emergency_number="112", booking_url=None)
    assert other.texts["intro"].text("en", voice=False).count("112") == 1
    assert other.texts["intro"].text("es", voice=True).count("112") == 1


def test_load_flows_reports_problems_from_every_file(tmp_path: Path) -> None:
    """A directory with two broken files reports both, and an empty directory is an error."""
    (tmp_path / "a.toml").write_text("spec = 1\n")
    (tmp_path / "b.toml").write_text("this is not toml")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    joined = "\n".join(str(p) for p in caught.value.problems)
    assert "a.toml:" in joined
    assert "b.toml: file: cannot read" in joined
    with pytest.raises(FlowError, match="no flow files"):
        load_flows(tmp_path / "missing")


def test_missing_words_for_a_language_are_named_with_the_language() -> None:
    """Each declared language needs its answer words; a missing list names the language."""
    data = _tiny()
    del data["words"]["es"]["no"]
    data["words"]["en"]["emergency"] = []
    with pytest.raises(FlowError) as caught:
        parse_flow(data)
    found = {(p.where, p.lang) for p in caught.value.problems}
    assert ("words.es.no", "es") in found
    assert ("words.en.emergency", "en") in found


def test_word_lists_are_read_like_replies() -> None:
    """Words written with accents, capitals or apostrophes are matched the way replies are."""
    data = _tiny()
    data["words"]["es"]["yes"] = ["Sí", "S"]
    data["words"]["es"]["no"] = ["no"]
    data["words"]["en"]["no"] = ["No", "I don't think so"]
    flow = parse_flow(data)
    spanish = flow.understanding.own[("es", None)]
    assert {p for p, a in spanish.items() if a is Answer.YES} == {("si",), ("s",)}
    assert flow.understanding.own[("en", None)][("i", "do", "not", "think", "so")] is Answer.NO


def test_each_problem_carries_the_rule_it_breaks() -> None:
    """The checker reads a problem's rule rather than its message: links, texts, placeholders, phrases."""
    data = _tiny()
    data["questions"]["q1"]["yes"] = "nowhere"
    data["questions"]["q2"]["text"].pop("es")
    data["outcomes"]["urgent"]["text"]["en"] = ["Call {ambulance} now."]
    data["words"]["en"]["emergency"] = ["arm ... "]
    data["questions"]["q1"]["colour"] = "red"
    with pytest.raises(FlowError) as caught:
        parse_flow(data)
    rules = {(p.where, p.rule) for p in caught.value.problems}
    assert ("questions.q1.yes", "link") in rules
    assert ("questions.q2.text.es", "missing-text") in rules
    assert ("outcomes.urgent.text.en", "placeholder") in rules
    assert ("words.en.emergency", "phrase") in rules
    assert ("questions.q1.colour", "structure") in rules


def test_a_question_may_add_its_own_answer_words() -> None:
    """A question's words join its language's while it is asked, and only then."""
    data = _tiny()
    data["questions"]["q2"]["words"] = {"en": {"no": ["slowly"]}}
    flow = parse_flow(data)
    assert flow.questions["q2"].words["en"].no == ("slowly",)
    assert flow.understanding.own[("en", "q2")][("slowly",)] is Answer.NO
    assert ("slowly",) not in flow.understanding.own.get(("en", "q1"), flow.understanding.own[("en", None)])


def test_a_flow_written_before_unsure_still_loads() -> None:
    """Unsure phrases and the unsure outcome are optional to load (archived flows keep working);
    the checker, not the loader, asks for them."""
    data = _tiny()
    del data["words"]["en"]["unsure"]
    flow = parse_flow(data)
    assert flow.words["en"].unsure == ()
    assert flow.unsure_outcome().kind == "safety"


def test_a_flow_written_before_call_languages_still_loads() -> None:
    """Flows archived before languages had keys on calls (they had a menu) keep working; the
    checker, not the loader, asks for a key per language."""
    data = _tiny()
    del data["call_languages"]
    flow = parse_flow(data)
    assert flow.call_languages == {}
    assert flow.call_offers("en") == ()
    assert flow.call_language_of_key("9") is None


def test_the_language_keys_and_offers_are_read() -> None:
    """Each language's key picks it; a caller in English is offered Spanish, in Spanish nothing."""
    flow = parse_flow(_tiny())
    assert flow.call_language_of_key("9") == "es"
    assert flow.call_language_of_key("1") is None
    assert [(lang, c.offer) for lang, c in flow.call_offers("en")] == [("es", "Español: 9.")]
    assert flow.call_offers("es") == ()
