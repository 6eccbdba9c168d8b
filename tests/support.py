"""Shared test helpers: loading flows, the real shipped flow, and common fixed values."""

from __future__ import annotations

from pathlib import Path

from ivr.config import PACKAGED_FLOWS
from ivr.core import engine
from ivr.core.engine import Input, Output
from ivr.core.flow import Flow
from ivr.core.session import Session
from ivr.flows.flowfile import load_flow

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = PACKAGED_FLOWS / "muscle-weakness.toml"

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
HASH_KEY = "test-hash-key-0123456789abcdef0123456789"
PUBLIC_BASE_URL = "https://triage.example.org"
OUR_NUMBER = "+15550100000"


def tiny_flow(*, booking_url: str | None = None) -> Flow:
    return load_flow(FIXTURES / "tiny.toml").bind(emergency_number="911", booking_url=booking_url)


def shipped_flow(*, booking_url: str | None = None) -> Flow:
    return load_flow(SHIPPED).bind(emergency_number="911", booking_url=booking_url)


def red_flags(flow: Flow) -> list[str]:
    return [q for q in flow.question_order() if flow.questions[q].red_flag]


def as_bytes(value: bytes | str | None) -> bytes:
    """Redis answers bytes here (no decoding), though the client's types also allow str."""
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


def path_to(flow: Flow, question: str) -> list[tuple[str, bool]]:
    """The answers (question, yes?) that lead from the start to `question`, answering no wherever a
    no leads there too (the shortest path, noes first)."""
    paths: dict[str, list[tuple[str, bool]]] = {flow.start: []}
    todo = [flow.start]
    while todo:
        node = todo.pop(0)
        if node == question:
            return paths[node]
        for answer, target in ((False, flow.questions[node].no), (True, flow.questions[node].yes)):
            if target in flow.questions and target not in paths:
                paths[target] = [*paths[node], (node, answer)]
                todo.append(target)
    raise KeyError(question)


def script(flow: Flow, yes_to: str | None) -> tuple[list[tuple[str, bool]], str]:
    """A whole conversation answering yes to `yes_to` only (None: no to everything): every
    (question, yes?) asked in order, and the outcome it ends in."""
    steps: list[tuple[str, bool]] = path_to(flow, yes_to) if yes_to is not None else []
    node = yes_to if yes_to is not None else flow.start
    while node in flow.questions:
        yes = node == yes_to
        steps.append((node, yes))
        node = flow.questions[node].yes if yes else flow.questions[node].no
    return steps, node


def safety_net_by_language(bodies: list[str]) -> tuple[str, str]:
    """The first English and the first Spanish message of a texted safety net (each language's
    parts packed into messages of its own), English first."""
    english = next(i for i, b in enumerate(bodies) if b.startswith("Call "))
    spanish = next(i for i, b in enumerate(bodies) if b.startswith("Llame "))
    assert english < spanish, bodies
    return bodies[english], bodies[spanish]


def no_path(flow: Flow) -> list[str]:
    """The questions met answering no to each, from the start to the appointment."""
    return [question for question, _ in script(flow, None)[0]]


def text_at(flow: Flow, question: str, text: str, lang: str = "en") -> Output:
    """What the line replies to a text sent to a conversation waiting at `question` in `lang`."""
    session = Session(flow=flow.id, digest=flow.digest, channel="sms", lang=lang, node=question, started=0)
    return engine.step(flow, session, Input("text", text))[1]
