"""`ivr serve` as a real process on a real port and a real Redis, answering signed webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import TwilioSimulator
from tests.conftest import redis_test_url
from tests.monitoring_files import mismatches, operator_traffic
from tests.processes import ivr_serve
from tests.support import AUTH_TOKEN, OUR_NUMBER, no_path, shipped_flow

QUESTIONS = len(no_path(shipped_flow()))


@pytest.fixture
def served(redis: Redis, tmp_path: Path) -> Iterator[str]:
    """`ivr serve` with two workers on the test Redis (emptied first by the `redis` fixture)."""
    with ivr_serve(redis_test_url(), tmp_path / "serve.log", workers=2) as base:
        yield base


@pytest.fixture
async def remote(served: str) -> AsyncIterator[TwilioSimulator]:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        yield TwilioSimulator(client, AUTH_TOKEN, served)


async def test_the_served_line_walks_a_text_conversation_to_each_outcome(remote: TwilioSimulator) -> None:
    """Over real HTTP with two workers: an emergency on one number, an appointment on another."""
    [first] = await remote.text("hi", sender="+15550001", to=OUR_NUMBER)
    assert "call 911 now" in first
    [emergency] = await remote.text("yes", sender="+15550001", to=OUR_NUMBER)
    assert emergency.startswith("Call 911 now.")
    await remote.text("hi", sender="+15550002", to=OUR_NUMBER)
    for _ in range(QUESTIONS):
        replies = await remote.text("no", sender="+15550002", to=OUR_NUMBER)
    assert replies[0].startswith("Make an appointment")


async def test_the_served_line_walks_a_call_to_each_outcome(remote: TwilioSimulator) -> None:
    """Over real HTTP: one call pressing 1 hears the emergency outcome, one pressing 2s the appointment."""
    call = remote.call(caller="+15550003", to=OUR_NUMBER)
    await call.start()
    assert (await call.press("1")).says[0].startswith("Hang up and call 911 now.")
    call = remote.call(caller="+15550004", to=OUR_NUMBER)
    await call.start()
    for _ in range(QUESTIONS):
        spoken = await call.press("2")
    assert spoken.says[0].startswith("Please make an appointment")
    assert spoken.hangup


async def test_the_served_line_refuses_unsigned_requests(served: str) -> None:
    """The real server answers 403 to a webhook without a valid signature."""
    async with httpx.AsyncClient(base_url=served) as client:
        response = await client.post(
            "/sms",
            content="From=%2B1555&To=%2B1666&Body=hi",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 403


async def test_every_scrape_counts_the_webhooks_of_all_workers(served: str) -> None:
    """With two workers, /metrics adds up what every worker counted: whichever worker a scrape
    reaches, it sees all the texts, so Prometheus sees a counter that only grows."""
    texts = 12
    for i in range(texts):
        # A connection per request, so the kernel hands them to both workers.
        async with httpx.AsyncClient(base_url=served, timeout=10) as client:
            await TwilioSimulator(client, AUTH_TOKEN, served).text(
                "hi", sender=f"+1555001{i:04d}", to=OUR_NUMBER
            )
    seen = set()
    for _ in range(10):
        async with httpx.AsyncClient(base_url=served, timeout=10) as client:
            metrics = (await client.get("/metrics")).text
        seen.add(
            next(
                line
                for line in metrics.splitlines()
                if line.startswith('ivr_webhook_seconds_count{route="sms"}')
            )
        )
    assert seen == {f'ivr_webhook_seconds_count{{route="sms"}} {texts}.0'}


async def test_the_dashboard_and_rules_find_their_metrics_with_several_workers(
    remote: TwilioSimulator,
) -> None:
    """Added up across two workers, /metrics still has every series and label the dashboard and
    the alert rules name."""
    await operator_traffic(remote)
    missing, wrong_labels = mismatches((await remote.client.get("/metrics")).text)
    assert not missing
    assert not wrong_labels
