"""Many conversations at once on a real Redis: each ends with its own right outcome, none mixed up."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from ivr.simulator.twilio_sim import TwilioSimulator
from tests.conversations import converse, expected_outcome, thinking

CONVERSATIONS = 500
THINK_SECONDS = 2.0  # the longest pause before a reply; without it this one process would be asked
# to serve 500 requests in the same instant, which no caller ever does


async def test_500_conversations_at_once(twilio: TwilioSimulator, redis: Redis) -> None:
    """500 conversations (texts and calls, English and Spanish, every path) are all in progress at
    once, each person pausing up to two seconds before each reply; each gets exactly its own questions
    and outcome (no webhook falls back to the safety net), and none leaves a session behind."""
    began = time.monotonic()
    # A task group, not gather: if one conversation fails, the others are cancelled and awaited
    # here, rather than left posting into an app that the fixture is shutting down.
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(converse(twilio, i, thinking(THINK_SECONDS))) for i in range(CONVERSATIONS)
        ]
    seconds = time.monotonic() - began
    outcomes = [task.result() for task in tasks]
    assert outcomes == [expected_outcome(i) for i in range(CONVERSATIONS)]
    assert await redis.keys("ivr:{*}:s") == []
    print(f"\n{CONVERSATIONS} concurrent conversations, 0 lost or mixed up, in {seconds:.1f} s")
