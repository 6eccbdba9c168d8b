"""Engine output as text messages: at most two segments each, as <Message> TwiML (the flow checker
holds a reply to two messages, three for the one that ends a conversation)."""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.messaging_response import MessagingResponse

from ivr.core import gsm
from ivr.core.engine import Output
from ivr.core.flow import Flow

MAX_SEGMENTS = 2
PART_SEPARATOR = "\n"


def parts(flow: Flow, output: Output, *, nurse: bool = False) -> list[str]:
    """The passages of one reply, in the order they must be read. With `nurse`, the help text says
    how to reach the nurse."""
    texts: list[str] = []
    for notice in output.notices:
        texts.extend(flow.texts[notice].parts(output.lang, voice=False))
        if nurse and notice == "help":
            texts.extend(flow.texts["nurse_offer"].parts(output.lang, voice=False))
    if output.ask is not None:
        question = flow.questions[output.ask].wording.text(output.lang, voice=False)
        hint_id = "sms_answer_hint_simple" if output.simple else "sms_answer_hint"
        hint = flow.texts[hint_id].text(output.lang, voice=False)
        texts.append(f"{question} {hint}")
    if output.outcome is not None:
        outcome = flow.outcomes[output.outcome]
        body = list(outcome.wording.parts(output.lang, voice=False))
        if outcome.booking is not None:
            # The last part is the safety net; the booking link goes just before it.
            body.insert(max(len(body) - 1, 1), outcome.booking.text(output.lang, voice=False))
        texts.extend(body)
    return texts


def pack(passages: Sequence[str]) -> list[str]:
    """Fill messages in order, never splitting a passage, each within two segments.

    Several passages share one message where they fit, because separate messages can arrive
    out of order and the emergency notice must be read first.
    """
    messages: list[str] = []
    for passage in passages:
        if messages:
            joined = messages[-1] + PART_SEPARATOR + passage
            if gsm.segments(joined) <= MAX_SEGMENTS:
                messages[-1] = joined
                continue
        messages.append(passage)
    return messages


def messages(flow: Flow, output: Output, *, nurse: bool = False) -> list[str]:
    """The bodies of the text messages for one output, at most two, each within two segments."""
    return pack(parts(flow, output, nurse=nurse))


def twiml(bodies: Sequence[str]) -> str:
    """A MessagingResponse that sends each body as its own message (none: an empty response)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return str(response.to_xml())


def render(flow: Flow, output: Output, *, nurse: bool = False) -> str:
    """TwiML <Message>s for one output."""
    return twiml(messages(flow, output, nurse=nurse))


def safety_net(flow: Flow) -> str:
    """What a texter gets when the line itself fails: the signs for 911 and for the emergency
    department in every language, each language in messages of its own so none is cut."""
    return twiml(
        [body for lang in flow.languages for body in pack(flow.texts["safety_net"].parts(lang, voice=False))]
    )
