"""A conversation finishes on the flow version it started on, across an edit of flows/ and a restart."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.flows.flowfile import load_flow
from ivr.simulator.twilio_sim import TwilioSimulator, in_process
from ivr.store.sessions import SessionStore
from ivr.web.app import create_app
from tests.conftest import make_settings
from tests.support import AUTH_TOKEN, OUR_NUMBER, PUBLIC_BASE_URL, SHIPPED

SENDER = "+15550007777"
OLD_ONSET = "Did the weakness come on suddenly, over minutes or hours?"
NEW_ONSET = "Did the weakness come on all at once, in minutes or hours?"
OLD_WORSE = "Has the weakness got worse or spread in the last few days?"


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    shutil.copy(SHIPPED, directory / SHIPPED.name)
    shutil.copytree(SHIPPED.parent / "answers", directory / "answers")  # the answer model it names
    return directory


def edit_flow(path: Path) -> None:
    """A clinical edit: the worse question is removed and the onset question reworded."""
    text = path.read_text(encoding="utf-8")
    shipped = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"$', text, re.MULTILINE)
    assert shipped is not None
    text = text.replace(shipped.group(0), f'version = "{shipped.group(1)}.{int(shipped.group(2)) + 1}.0"')
    text = text.replace('yes = "emergency"\nno = "worse"', 'yes = "emergency"\nno = "bladder"')
    start = text.index("[questions.worse]")
    text = text[:start] + text[text.index("[questions.bladder]") :]
    assert OLD_ONSET in text
    text = text.replace(OLD_ONSET, NEW_ONSET)
    path.write_text(text, encoding="utf-8")


@asynccontextmanager
async def serving(flows: Path, redis: Redis) -> AsyncIterator[TwilioSimulator]:
    """A fresh app process, as after a restart: it knows only the flows on disk now."""
    app = create_app(make_settings(flows_dir=flows), store=SessionStore(redis))
    async with in_process(app, AUTH_TOKEN, PUBLIC_BASE_URL) as twilio:
        yield twilio


async def test_a_live_text_conversation_ends_as_the_old_flow_says(flows_dir: Path, redis: Redis) -> None:
    """Two answers on the shipped version; the flow is edited and the server restarted; the conversation still
    asks the removed question and the old wording, while a new conversation gets the new flow."""
    path = flows_dir / SHIPPED.name
    old = load_flow(path)
    async with serving(flows_dir, redis) as before:
        await before.text("hi", sender=SENDER, to=OUR_NUMBER)
        await before.text("no", sender=SENDER, to=OUR_NUMBER)
        [third] = await before.text("no", sender=SENDER, to=OUR_NUMBER)
    assert third.startswith(old.questions["fainting"].wording.text("en", voice=False))

    edit_flow(path)
    assert load_flow(path).digest != old.digest
    async with serving(flows_dir, redis) as after:
        asked = []
        for _ in range(9):  # fainting .. eyelid: onset in its old words, and the removed worse question
            replies = await after.text("no", sender=SENDER, to=OUR_NUMBER)
            asked.append(replies[0])
        assert asked[0].startswith(OLD_ONSET)
        assert asked[5].startswith(OLD_WORSE)
        assert asked[8].startswith(old.questions["recent"].wording.text("en", voice=False))
        final = await after.text("no", sender=SENDER, to=OUR_NUMBER)
        assert final[0].startswith("Make an appointment")

        await after.text("hi", sender="+15550008888", to=OUR_NUMBER)
        replies = []
        for _ in range(8):  # breathing .. vision: onset in its new words, then bladder: worse is gone
            replies.append((await after.text("no", sender="+15550008888", to=OUR_NUMBER))[0])
        assert replies[2].startswith(NEW_ONSET)
        assert replies[7].startswith(old.questions["bladder"].wording.text("en", voice=False))


async def test_a_live_call_ends_as_the_old_flow_says(flows_dir: Path, redis: Redis) -> None:
    """The same for a call: mid-call edit and restart, and the caller still hears the old questions."""
    path = flows_dir / SHIPPED.name
    async with serving(flows_dir, redis) as before:
        call = before.call(caller=SENDER, to=OUR_NUMBER)
        await call.start()
        for _ in range(7):  # breathing .. one side; vision is asked next
            await call.press("2")
    edit_flow(path)
    async with serving(flows_dir, redis) as after:
        call.twilio = after
        spoken = await call.press("2")
        assert spoken.says[0].startswith(OLD_WORSE)
        spoken = await call.press("2")
        assert spoken.says[0].startswith("Have you lost control of your bladder")


async def test_when_no_copy_of_the_old_flow_survives_the_conversation_starts_again(
    flows_dir: Path, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """With the archive gone too, the person is not stranded: the triage starts again from the notice."""
    path = flows_dir / SHIPPED.name
    async with serving(flows_dir, redis) as before:
        await before.text("hi", sender=SENDER, to=OUR_NUMBER)
        await before.text("no", sender=SENDER, to=OUR_NUMBER)
    edit_flow(path)
    for key in await redis.keys("ivr:flow:*"):
        await redis.delete(key)
    caplog.set_level(logging.WARNING, logger="ivr")
    async with serving(flows_dir, redis) as after:
        [reply] = await after.text("no", sender=SENDER, to=OUR_NUMBER)
    assert "If this is an emergency, call 911 now" in reply
    assert any("flow version of a conversation is gone" in r.getMessage() for r in caplog.records)


async def test_archived_flows_expire(flows_dir: Path, redis: Redis) -> None:
    """The archive copy has a TTL of three times the longest session TTL, like every other key."""
    async with serving(flows_dir, redis) as server:
        await server.text("hi", sender=SENDER, to=OUR_NUMBER)
    [key] = await redis.keys("ivr:flow:*")
    assert 3 * 3600 - 10 < await redis.ttl(key) <= 3 * 3600
