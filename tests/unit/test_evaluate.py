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
