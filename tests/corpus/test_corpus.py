"""The corpus of real phrasings: each line gets the reply its label calls for, in the engine and
through the signed webhooks, on texts and on calls (keys to reach the question, then speech)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.core import carrier, engine
from ivr.core.engine import Input, InputKind, Output
from ivr.twilio_sim import Spoken, TwilioSimulator
from tests.corpus.corpus import CLASSES, FILES, LINES, Line, expected, read
from tests.support import OUR_NUMBER, shipped_flow

FLOW = shipped_flow()
ORDER = FLOW.question_order()
CONFIDENCE = 0.9  # a clear line; faint speech has its own tests


def test_the_corpus_is_large_and_covers_every_class_language_and_channel() -> None:
    """At least 400 labelled lines; every class in both languages; texts and speech in both."""
    assert len(LINES) >= 400
    by_source = Counter((line.lang, line.channel) for line in LINES)
    assert set(by_source) == {("en", "sms"), ("en", "voice"), ("es", "sms"), ("es", "voice")}
    for lang in ("en", "es"):
        assert {line.label for line in LINES if line.lang == lang} == set(CLASSES)
    assert {line.question for line in LINES} <= set(FLOW.questions)
    print("\ncorpus lines: " + ", ".join(f"{lang} {ch} {n}" for (lang, ch), n in sorted(by_source.items())))
    print("by label: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(x.label for x in LINES).items())))


@pytest.mark.parametrize("line", LINES, ids=[line.id for line in LINES])
def test_each_line_is_taken_as_its_label(line: Line) -> None:
    """The pure engine, asked the line's question in its language, answers as the label says."""
    session, _ = engine.start(FLOW, "sms", now=0)
    session = replace(session, node=line.question, lang=line.lang)
    kind: InputKind = "text" if line.channel == "sms" else "speech"
    _, output = engine.step(FLOW, session, Input(kind, line.text, CONFIDENCE))
    assert output == expected(FLOW, line)


async def _text_line(twilio: TwilioSimulator, line: Line, sender: str) -> list[str]:
    await twilio.text("hola" if line.lang == "es" else "hello", sender=sender, to=OUR_NUMBER)
    for _ in range(ORDER.index(line.question)):
        await twilio.text("no", sender=sender, to=OUR_NUMBER)
    return await twilio.text(line.text, sender=sender, to=OUR_NUMBER)


async def _spoken_line(twilio: TwilioSimulator, line: Line, caller: str) -> Spoken:
    call = twilio.call(caller=caller, to=OUR_NUMBER)
    await call.start()
    if line.lang != FLOW.default_language:
        await call.press(FLOW.call_languages[line.lang].key)
    for _ in range(ORDER.index(line.question)):
        await call.press("2")
    return await call.say(line.text, confidence=CONFIDENCE)


def _says(output: Output) -> tuple[str, ...]:
    rendered = voice.render(FLOW, output, action_url="https://x/voice/gather?t=1", style=VoiceStyle())
    return Spoken.parse(rendered).says


@pytest.mark.parametrize("channel", ["sms", "voice"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_every_line_through_the_webhooks(twilio: TwilioSimulator, path: Path, channel: str) -> None:
    """Every line of a corpus file, texted and spoken (each in a conversation of its own that has
    reached the line's question), gets exactly the reply its label calls for."""
    wrong = []
    for number, line in enumerate(read(path)):
        person = f"+1555{FILES.index(path)}{0 if channel == 'sms' else 1}{number:05d}"
        want = expected(FLOW, line, call=channel == "voice")
        if channel == "sms" and carrier.keyword(line.text) == "help":
            # The carrier's own HELP, a whole text: Twilio answers it, the line sends nothing
            # (see tests/e2e/test_keywords.py).
            want = Output(line.lang)
        if channel == "sms":
            got: object = await _text_line(twilio, line, person)
            if got != sms.messages(FLOW, want):
                wrong.append((line.source, line.text, got))
        else:
            spoken = await _spoken_line(twilio, line, person)
            if spoken.says != _says(want) or spoken.hangup != (want.outcome is not None):
                wrong.append((line.source, line.text, spoken.says))
    assert wrong == []
