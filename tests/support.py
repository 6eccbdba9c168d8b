"""Shared test helpers: loading flows, the real shipped flow, and common fixed values."""

from __future__ import annotations

from pathlib import Path

from ivr.config import PACKAGED_FLOWS
from ivr.core.flow import Flow
from ivr.flowfile import load_flow

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
