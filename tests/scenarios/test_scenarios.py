"""Golden scenarios: typical conversations as files of inputs and the exact replies they must get.

Format of `*.txt` here: `channel: sms|voice`, then steps. `> ...` is what the person does (SMS: the
text; voice: `call`, `press 1`, `say "words" 0.8`, `say "words"` with no confidence, `silence`).
The `<` lines after it are the whole reply: one line per SMS message (`<+` continues a message on a
new line) or per spoken <Say>, and `<hangup>` when the call ends. `#` starts a comment.

After a reviewed change of wording, `IVR_WRITE_SCENARIOS=1 make test ARGS=tests/scenarios` rewrites
the expected replies; the diff is then reviewed like any clinical change.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.simulator.twilio_sim import Call, TwilioSimulator
from tests.support import OUR_NUMBER

HERE = Path(__file__).parent
SENDER = "+15550004444"


@dataclass
class Step:
    action: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    channel: str
    header: list[str]
    steps: list[Step]


def parse(path: Path) -> Scenario:
    channel = ""
    header: list[str] = []
    steps: list[Step] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not steps and (line.startswith("#") or line.startswith("channel:") or not line.strip()):
            header.append(line)
            if line.startswith("channel:"):
                channel = line.split(":", 1)[1].strip()
        elif line.startswith("> "):
            steps.append(Step(line[2:]))
        elif line.startswith("<+ "):
            steps[-1].expected[-1] += "\n" + line[3:]
        elif line.startswith("<"):
            steps[-1].expected.append(line[2:] if line.startswith("< ") else line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"{path.name}: cannot read line {line!r}")
    if channel not in ("sms", "voice"):
        raise ValueError(f"{path.name}: channel must be sms or voice")
    return Scenario(channel, header, steps)


def write(path: Path, scenario: Scenario) -> None:
    lines = list(scenario.header)
    for step in scenario.steps:
        lines.append(f"> {step.action}")
        for reply in step.expected:
            if reply == "<hangup>":
                lines.append(reply)
                continue
            first, *rest = reply.split("\n")
            lines.append(f"< {first}")
            lines.extend(f"<+ {more}" for more in rest)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _voice_step(call: Call, action: str) -> list[str]:
    words = shlex.split(action)
    if words == ["call"]:
        spoken = await call.start()
    elif words[0] == "press":
        spoken = await call.press(words[1])
    elif words[0] == "say":
        confidence = float(words[2]) if len(words) > 2 else None
        spoken = await call.say(words[1], confidence=confidence)
    elif words == ["silence"]:
        spoken = await call.silence()
    else:
        raise ValueError(f"unknown voice action {action!r}")
    return [*spoken.says, *(["<hangup>"] if spoken.hangup else [])]


SCENARIOS = sorted(HERE.glob("*.txt"))


def test_there_are_scenarios_for_both_channels() -> None:
    """The golden files cover texts and calls."""
    assert {parse(p).channel for p in SCENARIOS} == {"sms", "voice"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_scenario(twilio: TwilioSimulator, path: Path) -> None:
    """The conversation gets exactly the replies written in its file, step by step."""
    scenario = parse(path)
    call = twilio.call(caller=SENDER, to=OUR_NUMBER)
    actual: list[list[str]] = []
    for step in scenario.steps:
        if scenario.channel == "sms":
            actual.append(await twilio.text(step.action, sender=SENDER, to=OUR_NUMBER))
        else:
            actual.append(await _voice_step(call, step.action))
    if os.environ.get("IVR_WRITE_SCENARIOS") == "1":
        for step, replies in zip(scenario.steps, actual, strict=True):
            step.expected = replies
        write(path, scenario)
    for number, (step, replies) in enumerate(zip(scenario.steps, actual, strict=True), start=1):
        assert replies == step.expected, f"step {number} ({step.action!r})"


def test_the_format_reads_what_it_writes(tmp_path: Path) -> None:
    """A scenario written and read back is unchanged, multi-line messages included."""
    scenario = Scenario("sms", ["channel: sms"], [Step("hi", ["a\nb", "c"]), Step("no", ["<hangup>"])])
    write(tmp_path / "x.txt", scenario)
    assert parse(tmp_path / "x.txt") == scenario
    assert re.search(r"^<\+ b$", (tmp_path / "x.txt").read_text(), re.M)
