"""Several app processes on one Redis, as replicas behind a load balancer: each turn of a
conversation goes to a different process than the turn before, and every conversation ends right."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import httpx
from redis.asyncio import Redis

from ivr.simulator.twilio_sim import TwilioSimulator
from tests.conftest import redis_test_url
from tests.conversations import converse, expected_outcome
from tests.processes import ivr_serve
from tests.support import AUTH_TOKEN, PUBLIC_BASE_URL

REPLICAS = 3
CONVERSATIONS = 32  # texts and calls, English and Spanish, every red flag and the all-no path


class RoundRobin(httpx.AsyncBaseTransport):
    """A load balancer: each request to the next process in turn."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = [httpx.URL(b) for b in bases]
        self.turns = itertools.cycle(range(len(bases)))
        self.inner = httpx.AsyncHTTPTransport()
        self.served: list[int] = []  # which process took each request, in order

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = next(self.turns)
        self.served.append(index)
        target = self.bases[index]
        request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_each_turn_on_another_process(redis: Redis, tmp_path: Path) -> None:
    url = redis_test_url()
    with (
        ivr_serve(url, tmp_path / "a.log", public_base_url=PUBLIC_BASE_URL) as a,
        ivr_serve(url, tmp_path / "b.log", public_base_url=PUBLIC_BASE_URL) as b,
        ivr_serve(url, tmp_path / "c.log", public_base_url=PUBLIC_BASE_URL) as c,
    ):
        balancer = RoundRobin([a, b, c])
        async with httpx.AsyncClient(transport=balancer, base_url=PUBLIC_BASE_URL, timeout=10) as client:
            twilio = TwilioSimulator(client, AUTH_TOKEN, PUBLIC_BASE_URL)
            # One at a time, so that consecutive turns of a conversation are consecutive requests,
            # which the balancer sends to different processes.
            outcomes = [await converse(twilio, i, prefix="+1888") for i in range(CONVERSATIONS)]

    assert outcomes == [expected_outcome(i) for i in range(CONVERSATIONS)]
    assert all(x != y for x, y in itertools.pairwise(balancer.served))
    assert Counter(balancer.served).keys() == set(range(REPLICAS))
    assert await redis.keys("ivr:{*}:s") == []
