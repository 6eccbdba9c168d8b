"""Held-out replies through the signed webhooks: each texted and spoken in a conversation of its
own that has reached the reply's question, and answered exactly as the engine decides it.

The figures (test_understanding.py) judge the engine's decisions; this proves the served line
makes the same ones: the same answer model, the same rules, rendered to the same messages and
speech, on texts and on calls (keys to reach the question, then the reply spoken)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.core import carrier, engine
from ivr.core.engine import Input, Output
from ivr.core.session import Channel
from ivr.simulator.twilio_sim import Spoken, TwilioSimulator
from ivr.training.data import Example, read_examples
from tests.support import OUR_NUMBER, path_to, shipped_flow

FLOW = shipped_flow()
HERE = Path(__file__).parent
CONFIDENCE = 0.9  # a clear line; faint speech has tests of its own
# The earlier corpus's held-out lines, every third line of the development set and every eighth of
# the first blind set.
LINES = [
    *read_examples(HERE / "corpus-test.tsv"),
    *read_examples(HERE / "dev.tsv")[::3],
    *read_examples(HERE / "blind-1.tsv")[::8],
]


def decided(example: Example, channel: Channel) -> Output:
    """What the engine replies to the example at its question, in its language (on a call, after
    the keys that reached it)."""
    session, _ = engine.start(FLOW, channel, now=0)
    session = replace(session, node=example.topic, lang=example.lang, turns=3)
    said = Input("speech", example.text, CONFIDENCE) if channel == "voice" else Input("text", example.text)
    return engine.step(FLOW, session, said)[1]


async def _texted(twilio: TwilioSimulator, example: Example, sender: str) -> list[str]:
    await twilio.text("hola" if example.lang == "es" else "hello", sender=sender, to=OUR_NUMBER)
    yes, no = ("sí", "no") if example.lang == "es" else ("yes", "no")
    for _, answer in path_to(FLOW, example.topic):
        await twilio.text(yes if answer else no, sender=sender, to=OUR_NUMBER)
    return await twilio.text(example.text, sender=sender, to=OUR_NUMBER)


async def _spoken(twilio: TwilioSimulator, example: Example, caller: str) -> Spoken:
    call = twilio.call(caller=caller, to=OUR_NUMBER)
    await call.start()
    if example.lang != FLOW.default_language:
        await call.press(FLOW.call_languages[example.lang].key)
    for _, answer in path_to(FLOW, example.topic):
        await call.press("1" if answer else "2")
    return await call.say(example.text, confidence=CONFIDENCE)


def _says(output: Output) -> tuple[str, ...]:
    rendered = voice.render(FLOW, output, action_url="https://x/voice/gather?t=1", style=VoiceStyle())
    return Spoken.parse(rendered).says


@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_held_out_replies_get_the_engines_reply_through_the_webhooks(
    twilio: TwilioSimulator, channel: Channel
) -> None:
    """Every line, texted or spoken, gets exactly the reply the engine decides for it."""
    wrong = []
    for number, example in enumerate(LINES):
        person = f"+1555{0 if channel == 'sms' else 1}{number:06d}"
        want = decided(example, channel)
        if channel == "sms":
            if carrier.keyword(example.text) is not None:
                continue  # the carrier's own words, whole texts, have tests of their own (test_keywords)
            got: object = await _texted(twilio, example, person)
            if got != sms.messages(FLOW, want):
                wrong.append((example.where, example.text, got))
        else:
            spoken = await _spoken(twilio, example, person)
            if spoken.says != _says(want) or spoken.hangup != (want.outcome is not None):
                wrong.append((example.where, example.text, spoken.says))
    assert len(LINES) > 300
    assert wrong == []
