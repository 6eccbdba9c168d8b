"""Every answer path through each shipped flow, on both channels, in every language, over the webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ivr.config import PACKAGED_FLOWS
from ivr.core.flow import Flow
from ivr.flows.flowfile import load_flows
from ivr.simulator.twilio_sim import TwilioSimulator
from tests.support import OUR_NUMBER

FLOWS = {
    fid: f.bind(emergency_number="911", booking_url=None) for fid, f in load_flows(PACKAGED_FLOWS).items()
}

Path_ = tuple[tuple[str, bool], ...]


def answer_paths(flow: Flow) -> Iterator[tuple[Path_, str]]:
    """Each sequence of yes/no answers from the start to an outcome, with the outcome reached."""

    def walk(node: str, path: Path_) -> Iterator[tuple[Path_, str]]:
        if node in flow.outcomes:
            yield path, node
            return
        question = flow.questions[node]
        for said_yes, target in ((True, question.yes), (False, question.no)):
            yield from walk(target, (*path, (node, said_yes)))

    yield from walk(flow.start, ())


CASES = [
    pytest.param(
        fid,
        path,
        outcome,
        channel,
        lang,
        id=f"{fid}-{channel}-{lang}-{'-'.join(('Y' if y else 'N') for _, y in path)}",
    )
    for fid, flow in FLOWS.items()
    for path, outcome in answer_paths(flow)
    for channel in ("sms", "voice")
    for lang in flow.languages
]


def test_the_paths_cover_every_red_flag_the_all_no_path_and_every_level() -> None:
    """The enumeration reaches the emergency outcome from each red flag, the appointment by all noes
    (long-standing weakness) and by all noes but the new-weakness gate, and the emergency department
    and care today from the questions that lead there."""
    flow = FLOWS["muscle-weakness"]
    paths = dict(answer_paths(flow))
    yes_endings = {path[-1][0] for path in paths if path[-1][1]}
    assert yes_endings | {"recent", "fall"} == set(flow.questions)
    red_flags = {q.id for q in flow.questions.values() if q.red_flag}
    assert red_flags <= {path[-1][0] for path, outcome in paths.items() if outcome == "emergency"}
    no_path = tuple((q, False) for q in flow.question_order()[:12])
    assert paths[no_path] == "appointment"
    assert {flow.outcomes[outcome].kind for outcome in paths.values()} == {
        "emergency",
        "er_now",
        "today",
        "appointment",
    }


def _first_part(flow: Flow, outcome: str, lang: str, *, voice: bool) -> str:
    return flow.outcomes[outcome].wording.parts(lang, voice=voice)[0]


@pytest.mark.parametrize(("flow_id", "path", "outcome", "channel", "lang"), CASES)
async def test_every_path(
    twilio: TwilioSimulator, flow_id: str, path: Path_, outcome: str, channel: str, lang: str
) -> None:
    """Each question is asked once in order; a red-flag yes is answered by the emergency outcome in the
    very next reply, another yes by the outcome it leads to (the emergency department, care today);
    the all-no path ends with the appointment outcome; nothing more is asked."""
    flow = FLOWS[flow_id]
    asked = 0
    if channel == "sms":
        opening = "hola" if lang == "es" else "hello"
        replies = await twilio.text(opening, sender="+15550009999", to=OUR_NUMBER)
        for question, said_yes in path:
            assert flow.questions[question].wording.text(lang, voice=False) in replies[0]
            asked += 1
            word = ("sí" if said_yes else "no") if lang == "es" else ("yes" if said_yes else "no")
            replies = await twilio.text(word, sender="+15550009999", to=OUR_NUMBER)
        assert replies[0].startswith(_first_part(flow, outcome, lang, voice=False))
    else:
        call = twilio.call(caller="+15550009999", to=OUR_NUMBER)
        spoken = await call.start()
        if lang != flow.default_language:
            spoken = await call.press(flow.call_languages[lang].key)
        for question, said_yes in path:
            assert spoken.says[-1].startswith(flow.questions[question].wording.text(lang, voice=True))
            asked += 1
            spoken = await call.press("1" if said_yes else "2")
        assert spoken.says[0].startswith(_first_part(flow, outcome, lang, voice=True))
        assert spoken.hangup
    assert asked == len(path) <= len(flow.questions)
    last, said_yes = path[-1]
    assert outcome == (flow.questions[last].yes if said_yes else flow.questions[last].no)
    if flow.questions[last].red_flag and said_yes:
        assert flow.outcomes[outcome].kind == "emergency"
    if not any(yes for _, yes in path):
        assert flow.outcomes[outcome].kind == "appointment"
