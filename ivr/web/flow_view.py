"""The flow as the simulator page shows it: its questions and outcomes, and where a reply has got to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.core import gsm
from ivr.core.flow import Flow


@dataclass(frozen=True, slots=True)
class Place:
    """Where a reply leaves a conversation: at a question or an outcome (`node`), in a language;
    or nowhere the flow names (a notice, the safety net)."""

    node: str | None = None
    lang: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The place as the page reads it."""
        return {"node": self.node, "lang": self.lang}


def describe(flow: Flow, *, voice_locales: dict[str, str]) -> dict[str, Any]:
    """The questions in the order a caller who answers no meets them, where each answer leads,
    and the outcomes, in every language of the flow, for the page's side panel."""

    def texts(qid: str) -> dict[str, str]:
        """A question's wording in every language, as texted."""
        return {lang: flow.questions[qid].wording.text(lang, voice=False) for lang in flow.languages}

    return {
        "id": flow.id,
        "version": flow.version,
        "title": flow.title,
        "languages": list(flow.languages),
        "locales": {lang: voice_locales.get(lang, "en-US") for lang in flow.languages},
        "questions": [
            {
                "id": qid,
                "red_flag": flow.questions[qid].red_flag,
                "yes": flow.questions[qid].yes,
                "no": flow.questions[qid].no,
                "text": texts(qid),
            }
            for qid in flow.question_order()
        ],
        "outcomes": [
            {
                "id": oid,
                "kind": outcome.kind,
                "text": {lang: outcome.wording.parts(lang, voice=False)[0] for lang in flow.languages},
            }
            for oid, outcome in flow.outcomes.items()
        ],
    }


def place_of(flow: Flow, passages: Sequence[str], *, voice: bool) -> Place:
    """Where a reply leaves the conversation, read from what it says, as a person would: the last
    passage that opens with a question's or an outcome's wording. Passages are a text's lines (the
    renderers never split one) or a call's <Say>s (an offer of another language is a <Say> of its
    own, so the question after it is still found, in the call's language). Reading the reply, not
    the session, keeps the page true to what a phone gets whatever the store keeps."""
    found = Place()
    for passage in passages:
        place = _opening(flow, passage, voice=voice)
        if place is not None:
            found = place
    return found


def _opening(flow: Flow, passage: str, *, voice: bool) -> Place | None:
    best: tuple[int, Place] | None = None
    for lang in flow.languages:
        candidates = [(qid, q.wording.text(lang, voice=voice)) for qid, q in flow.questions.items()]
        candidates += [(oid, o.wording.parts(lang, voice=voice)[0]) for oid, o in flow.outcomes.items()]
        for node, wording in candidates:
            # The longest opening wins, so one wording that begins another cannot be mistaken for it.
            if passage.startswith(wording) and (best is None or len(wording) > best[0]):
                best = (len(wording), Place(node, lang))
    return best[1] if best else None


def text_message(body: str) -> dict[str, Any]:
    """One text message with what it costs: its SMS segments, its encoding, its length against the
    room those segments give, and the characters that forced UCS-2, if any."""
    encoding = gsm.encoding_of(body)
    segments = gsm.segments(body)
    return {
        "text": body,
        "segments": segments,
        "encoding": encoding,
        "units": gsm.length_in_units(body),
        "capacity": gsm.max_units(encoding, segments),
        "not_gsm7": gsm.non_gsm7_characters(body),
    }
