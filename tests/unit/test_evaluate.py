"""The judge of ivr answers eval: what a label calls for at a question, with its equivalents."""

from __future__ import annotations

from ivr.training.data import Example
from ivr.training.evaluate import judge, wanted
from tests.support import shipped_flow

FLOW = shipped_flow()


def _example(label: str, topic: str, text: str, lang: str = "en") -> Example:
    return Example(label, topic, lang, "sms", text, where="test")


def test_asking_for_the_conversations_own_language_is_a_switch_when_answered_in_it() -> None:
    """ "Español, por favor" in a conversation already in Spanish: the notice again in Spanish is
    what was asked for, not a question asked again."""
    judged = judge(FLOW, _example("spanish", "fever", "español porfa", lang="es"))
    assert judged.did == ("switch", "es")
    assert judged.handled


def test_an_urgent_sign_with_a_yes_to_a_red_flag_may_get_911() -> None:
    """The line may not answer a yes to a red flag with less than 911, so at such a question an
    urgent sign is handled by 911 as well as by the emergency department; elsewhere only the
    emergency department is."""
    at_red_flag = wanted(FLOW, _example("urgent", "swallowing", "yes, nothing for two days"))
    assert ("outcome", "emergency") in at_red_flag
    assert ("outcome", "er_now") in at_red_flag
    elsewhere = wanted(FLOW, _example("urgent", "fluids", "yes, nothing stays down for a day"))
    assert elsewhere == frozenset({("outcome", "er_now")})


def test_a_reply_that_answers_nothing_is_asked_again_or_answered_with_the_help_text() -> None:
    """The help text asks the pending question again after saying what the line is: for "who is
    this?" that is as good as asking again. A request for help still needs the help text."""
    answers_nothing = wanted(FLOW, _example("unclear", "fever", "who is this"))
    assert answers_nothing == frozenset({("again", ""), ("help", "")})
    assert wanted(FLOW, _example("help", "fever", "what is this")) == frozenset({("help", "")})
