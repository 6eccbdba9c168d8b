"""The service layer on an in-memory store (tests/fakes.py, held to the Redis store's meaning by
tests/integration/test_store_contract.py): a turn loads, steps the engine and saves, per conversation."""

from __future__ import annotations

from typing import Any

import pytest

from ivr.application.registry import FlowRegistry
from ivr.application.service import Triage
from ivr.core.engine import SILENCE, Input, Output
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.flows.flowfile import load_flows, parse_flow
from ivr.store.errors import StoreUnavailable
from ivr.store.flow_archive import FlowArchive
from ivr.store.keys import Keys
from tests.fakes import InMemoryConversations
from tests.support import HASH_KEY, OUR_NUMBER, SHIPPED

SENDER = "+15550123456"
CALL = "CA" + "7" * 32


@pytest.fixture
def triage() -> Triage:
    registry = FlowRegistry(
        load_flows(SHIPPED.parent), active="muscle-weakness", emergency_number="911", booking_url=None
    )
    return Triage(registry, InMemoryConversations(), Pseudonyms(HASH_KEY.encode()), clock=lambda: 1_000.0)


async def test_a_text_conversation_moves_question_by_question_to_its_outcome(triage: Triage) -> None:
    """The first text starts the conversation at the first question; each no moves to the next
    question; a yes to a red flag ends it with the emergency outcome and removes the session."""
    flow = triage.registry.current
    order = flow.question_order()
    first = await triage.text(OUR_NUMBER, SENDER, "hi", "SM" + "0" * 32)
    assert first.fresh
    assert first.output.ask == order[0]
    second = await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "1" * 32)
    assert second.output.ask == order[1]
    assert second.heard is not None
    assert (second.heard.question, second.heard.taken) == (order[0], "no")
    last = await triage.text(OUR_NUMBER, SENDER, "yes", "SM" + "2" * 32)
    assert last.output.outcome is not None
    assert flow.outcomes[last.output.outcome].kind == "emergency"
    again = await triage.text(OUR_NUMBER, SENDER, "hello", "SM" + "3" * 32)
    assert again.fresh  # the finished conversation left nothing behind: a new one starts


async def test_a_repeated_message_gets_the_same_reply_and_changes_nothing(triage: Triage) -> None:
    """Twilio retrying a message: the same output, marked as a replay, and the next message is taken
    for the next question, not the one after."""
    order = triage.registry.current.question_order()
    await triage.text(OUR_NUMBER, SENDER, "hi", "SM" + "a" * 32)
    answered = await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "b" * 32)
    repeat = await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "b" * 32)
    assert repeat.replayed
    assert repeat.output == answered.output
    following = await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "c" * 32)
    assert following.output.ask == order[2]


async def test_stop_ends_the_triage_and_silences_the_sender_until_start(triage: Triage) -> None:
    """After STOP nothing is said back (an ignored turn); START opts back in and says so."""
    await triage.text(OUR_NUMBER, SENDER, "hi", "SM" + "d" * 32)
    assert (await triage.text(OUR_NUMBER, SENDER, "STOP", "SM" + "e" * 32)).event == "opted_out"
    assert await triage.opted_out(OUR_NUMBER, SENDER)
    assert (await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "f" * 32)).event == "ignored"
    assert (await triage.text(OUR_NUMBER, SENDER, "START", "SM" + "9" * 32)).event == "opted_in"
    assert not await triage.opted_out(OUR_NUMBER, SENDER)


async def test_a_call_input_for_an_old_prompt_repeats_the_current_one(triage: Triage) -> None:
    """A gather posted with a step token that no longer names the pending prompt advances nothing."""
    order = triage.registry.current.question_order()
    started = await triage.call_started(CALL)
    asked = await triage.call_input(CALL, started.token, Input("keys", "2"))
    assert asked.output.ask == order[1]
    stale = await triage.call_input(CALL, started.token, Input("keys", "2"))
    assert stale.output == Output("en", ask=order[1], offers=True)
    assert stale.token == asked.token
    moved = await triage.call_input(CALL, asked.token, Input("keys", "2"))
    assert moved.output.ask == order[2]


async def test_a_call_that_ends_mid_triage_is_abandoned_and_forgotten(triage: Triage) -> None:
    """The status callback finds the session (an abandoned call) and removes it; a late gather for
    the finished call is ignored and revives nothing."""
    started = await triage.call_started(CALL)
    asked = await triage.call_input(CALL, started.token, Input("keys", "2"))
    end = await triage.call_ended(CALL)
    assert end.abandoned
    assert end.session is not None
    assert (await triage.call_ended(CALL)).abandoned is False
    late = await triage.call_input(CALL, asked.token, SILENCE)
    assert late.event == "ignored"


async def test_a_store_that_fails_fails_the_turn_and_keeps_nothing_half_done() -> None:
    """When the store cannot be reached the turn raises StoreUnavailable (the webhook answers with
    the safety net); once it is back, the conversation is where it was."""
    store = InMemoryConversations()
    registry = FlowRegistry(
        load_flows(SHIPPED.parent), active="muscle-weakness", emergency_number="911", booking_url=None
    )
    triage = Triage(registry, store, Pseudonyms(HASH_KEY.encode()), clock=lambda: 1_000.0)
    order = registry.current.question_order()
    await triage.text(OUR_NUMBER, SENDER, "hi", "SM" + "d" * 32)
    store.failing = True
    with pytest.raises(StoreUnavailable):
        await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "e" * 32)
    store.failing = False
    again = await triage.text(OUR_NUMBER, SENDER, "no", "SM" + "f" * 32)
    assert again.heard is not None
    assert again.heard.question == order[0]
    assert again.output.ask == order[1]


class _Archive(FlowArchive):
    """An archive holding one flow's source, noting whether the conversation was locked when it was
    read (the store it watches is the in-memory one)."""

    def __init__(self, source: dict[str, Any], store: InMemoryConversations, keys: Keys) -> None:
        self.ttl = 3600
        self.source, self.store, self.keys = source, store, keys
        self.read_while_locked: list[bool] = []

    async def publish(self, flow: Flow) -> None:
        return None

    async def fetch(self, flow_id: str, digest: str) -> dict[str, Any] | None:
        self.read_while_locked.append(self.store.locked(self.keys))
        return self.source


async def test_a_conversation_on_an_archived_flow_is_fetched_outside_its_lock() -> None:
    """After a deploy, a conversation begun on the previous flow version finishes on it; that
    version is read from the archive before the turn takes the conversation's lock, never while
    it holds it (a slow Redis would hold every other webhook of the conversation behind it)."""
    store = InMemoryConversations()
    pseudonyms = Pseudonyms(HASH_KEY.encode())
    before = load_flows(SHIPPED.parent)["muscle-weakness"]
    old = Triage(
        FlowRegistry({before.id: before}, active=before.id, emergency_number="911", booking_url=None),
        store,
        pseudonyms,
    )
    await old.text(OUR_NUMBER, SENDER, "hi", "SM" + "1" * 32)
    after = parse_flow({**before.source, "version": "9.9.9"})
    assert after.digest != before.digest
    keys = Keys("m", pseudonyms.sms_conversation(OUR_NUMBER, SENDER))
    archive = _Archive(dict(before.source), store, keys)
    registry = FlowRegistry(
        {after.id: after}, active=after.id, emergency_number="911", booking_url=None, archive=archive
    )
    turn = await Triage(registry, store, pseudonyms).text(OUR_NUMBER, SENDER, "no", "SM" + "2" * 32)
    assert turn.flow.digest == before.digest
    assert turn.heard is not None
    assert turn.heard.question == before.question_order()[0]
    assert archive.read_while_locked == [False]
