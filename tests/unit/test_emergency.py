"""Emergency phrases in free text: the pattern language, negation both ways, and answers before them."""

from __future__ import annotations

import pytest

from ivr.core.emergency import EmergencyPhrases, examples, parse_pattern
from ivr.core.words import Said
from tests.support import shipped_flow

FLOW = shipped_flow()
PHRASES = FLOW.emergency_phrases
NEGATIONS = PHRASES.negations
RED_FLAG_PATTERNS = [p for p in PHRASES.patterns if p.question is not None]
# Every way each red-flag phrase of the flow can be said with its gaps empty.
SAYINGS = sorted(
    {(" ".join(words), lang) for p in RED_FLAG_PATTERNS for words in examples(p.slots) for lang in p.langs}
)
# Subjects that make "no" an answer of its own before a phrase ("no she ...", "no ella ...").
SUBJECTS = {"en": ["she", "I", "my mom"], "es": ["ella", "mi esposo", "yo"]}


def stated(text: str) -> bool:
    said = Said.of(text)
    return PHRASES.scan(said, FLOW.understanding.any_language.lead(said)).stated is not None


def test_every_red_flag_question_has_phrases_in_every_language() -> None:
    """Each red flag of the flow can be described in free text in English and in Spanish."""
    for question in FLOW.questions.values():
        if question.red_flag:
            assert set(question.phrases) == set(FLOW.languages), question.id


def test_every_red_flag_phrase_on_its_own_is_an_emergency() -> None:
    """Each phrase of the flow, said plainly, describes an emergency."""
    assert len(SAYINGS) > 300
    assert [text for text, _ in SAYINGS if not stated(text)] == []


# Answers people put first, as they type them ("no" has a test of its own, below). "no sé" is left
# out: once accents are folded away, "no se desmayó" is "he did not faint", a true negative.
PREFIXES = ["yes", "Yes,", "sí", "Sí.", "si", "I don't know", "i dont know", "idk"]


def test_an_answer_before_any_red_flag_phrase_never_turns_it_off() -> None:
    """For every red-flag phrase of the flow and every answer before it ("yes", "sí", "I don't
    know" and their spellings), the text is still an emergency."""
    missed = [
        f"{prefix} {text}" for text, _ in SAYINGS for prefix in PREFIXES if not stated(f"{prefix} {text}")
    ]
    assert missed == []


def test_an_answering_no_before_any_red_flag_phrase_never_turns_it_off() -> None:
    """For every red-flag phrase of the flow, "no" as an answer before it leaves it an emergency:
    before a comma ("no, passed out"), before a subject ("no she passed out"), and directly before
    a phrase that itself says someone cannot do something ("no I can't breathe", "no no puedo
    respirar"). Only a "no" that reads on into the phrase negates it ("no trouble breathing")."""
    missed: list[str] = []
    for text, lang in SAYINGS:
        tries = [f"no, {text}", f"No. {text}", *(f"no {subject} {text}" for subject in SUBJECTS[lang])]
        if any(w in NEGATIONS for w in text.split()):
            tries.append(f"no {text}")
        missed.extend(t for t in tries if not stated(t))
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        "I'm not having trouble breathing",
        "I don't have trouble breathing",
        "I have not been having any trouble breathing",
        "no trouble breathing",
        "never fainted",
        "no me desmayé",
        "no se desmayó",
        "no me he desmayado",
        "no tengo dificultad para respirar",
        "sin dificultad para respirar",
        "my arm is not numb",
        "it wasn't sudden",
    ],
)
def test_negation_still_protects_true_negatives(text: str) -> None:
    """A negation shortly before a phrase, in its clause, cancels it."""
    assert not stated(text)


@pytest.mark.parametrize(
    "text",
    [
        "she's not breathing",
        "he can't move his arm",
        "no puede hablar",
        "no fever but I passed out",
        "no sé se desmayó",
        "no mi esposo se desmayó",
        "I'm not sure, I think I passed out",
    ],
)
def test_negation_never_hides_a_stated_emergency(text: str) -> None:
    """A phrase that says someone cannot do something, or a phrase in a clause of its own, stands."""
    assert stated(text)


def test_a_negated_phrase_denies_its_own_red_flag() -> None:
    """ "I haven't passed out" denies fainting; the words of that denial are set aside for reading
    an answer."""
    said = Said.of("no I haven't passed out")
    scan = PHRASES.scan(said, FLOW.understanding.any_language.lead(said))
    assert scan.stated is None
    assert scan.denied == frozenset({"fainting"})
    assert {w for c, w in scan.cleared} == {3, 4, 5}


def test_the_pattern_language() -> None:
    """Alternatives, joined words and gaps; a gap never holds a negation; contractions read alike."""
    phrases = EmergencyPhrases.merge(
        [("en", "q", "arm|leg ... numb"), ("en", None, "can't|unable_to breathe")], ["no", "not"], ["but"]
    )
    assert phrases.find("my left arm went all numb") is not None
    assert phrases.find("my arm is not numb") is None
    assert phrases.find("arm and leg fine but numb") is None  # "but" ends the clause
    for text in ("I can't breathe", "i cant breathe", "I cannot breathe", "unable to breathe"):
        assert phrases.find(text) is not None, text
    assert [" ".join(e) for e in examples(parse_pattern("arm|leg ... numb"))] == ["arm numb", "leg numb"]


@pytest.mark.parametrize("text", ["...", "... numb", "arm ...", "arm || numb", ""])
def test_a_phrase_that_cannot_be_matched_is_refused(text: str) -> None:
    """A gap at either end, an empty alternative or no words at all: the loader reports it."""
    with pytest.raises(ValueError, match=r"."):
        parse_pattern(text)
