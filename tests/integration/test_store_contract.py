"""The ConversationStore Protocol's meaning, checked on both of its stores: the Redis one (on a real
Redis) and the in-memory one the service tests use, so a fake that drifted from Redis fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.application.ports import ConversationStore
from ivr.store.keys import Keys
from ivr.store.sessions import Decision, SessionStore, Snapshot
from tests.fakes import InMemoryConversations

KEYS = Keys("c", "contract")


@pytest.fixture(params=["redis", "memory"])
async def store(request: pytest.FixtureRequest, redis: Redis) -> AsyncIterator[ConversationStore]:
    if request.param == "memory":
        yield InMemoryConversations()
        return
    real = SessionStore(redis)
    yield real  # the `redis` fixture closes the client


async def _turn(
    store: ConversationStore, session: bytes | None, *, sid: str | None = None, reply: bytes | None = None
) -> Snapshot:
    async def decide(snapshot: Snapshot) -> Decision[Snapshot]:
        return Decision(session, snapshot, reply)

    return await store.turn(KEYS, 60, decide, message_sid=sid, count_window=300, count_limit=3)


async def test_a_turn_saves_what_it_decided_and_the_next_sees_it(store: ConversationStore) -> None:
    first = await _turn(store, b"one")
    assert first.session is None
    assert (await _turn(store, b"two")).session == b"one"
    assert (await _turn(store, None)).session == b"two"
    assert (await _turn(store, b"three")).session is None  # None deleted it


async def test_a_repeated_message_gets_its_recorded_reply_and_saves_nothing(store: ConversationStore) -> None:
    await _turn(store, b"a", sid="SM1", reply=b"reply one")
    repeat = await _turn(store, b"b", sid="SM1", reply=b"other")
    assert repeat.replay == b"reply one"
    assert (await _turn(store, b"c", sid="SM2")).session == b"a"


async def test_texts_past_the_limit_are_seen_with_their_count(store: ConversationStore) -> None:
    counts = [(await _turn(store, b"s", sid=f"SM{n}", reply=b"r")).texts_in_window for n in range(5)]
    assert all(count <= 3 for count in counts[:3])
    assert counts[3:] == [4, 5]


async def test_an_opt_out_ends_the_conversation_until_opted_back_in(store: ConversationStore) -> None:
    await _turn(store, b"in progress")
    await store.opt_out(KEYS, 3600)
    assert await store.opted_out(KEYS)
    seen = await _turn(store, b"in progress")
    assert (seen.session, seen.opted_out) == (None, True)
    assert await store.opt_in(KEYS) is True
    assert await store.opt_in(KEYS) is False
    assert not await store.opted_out(KEYS)


async def test_marks_and_kept_values_are_taken_once(store: ConversationStore) -> None:
    await store.mark(KEYS.accepted, 60)
    assert await store.take(KEYS.accepted) is True
    assert await store.take(KEYS.accepted) is False
    await store.keep(KEYS.offer, b"advice", 60)
    assert await store.take_value(KEYS.offer) == b"advice"
    assert await store.take_value(KEYS.offer) is None


async def test_a_finished_call_hands_back_its_session_and_leaves_a_tombstone(
    store: ConversationStore,
) -> None:
    await _turn(store, b"mid call")
    assert await store.finish_call(KEYS, 60) == b"mid call"
    assert await store.finish_call(KEYS, 60) is None
    assert (await _turn(store, b"late")).finished is True
