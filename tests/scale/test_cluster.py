"""The line on a real 3-master Redis Cluster: whole conversations on both channels, every key of a
conversation on one slot, every key with a TTL, and the audit stream and flow archive working."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from ivr.ops import doctor
from ivr.ops.doctor import Status
from ivr.store.audit import STREAM
from ivr.store.keys import Keys
from tests.conftest import make_settings, serving
from tests.conversations import converse, expected_outcome
from tests.redis_servers import RedisClusterServers

CONVERSATIONS = 40  # texts and calls, English and Spanish, every red flag and the all-no path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers(tmp_path_factory.mktemp("cluster")).start()
    try:
        yield servers
    finally:
        servers.stop()


def _all_keys(cluster: RedisClusterServers) -> dict[bytes, int]:
    """Every key in the cluster, with the TTL it has."""
    found: dict[bytes, int] = {}
    for node in cluster.nodes:
        with node.client() as client:
            for key in client.scan_iter(count=1000):
                found[key] = int(client.pttl(key))
    return found


async def test_whole_conversations_on_a_cluster(cluster: RedisClusterServers) -> None:
    settings = make_settings(redis_url=cluster.url)
    async with serving(settings) as twilio:
        outcomes = await asyncio.gather(*(converse(twilio, i, prefix="+1444") for i in range(CONVERSATIONS)))
        ready = await twilio.client.get("/readyz")
    assert outcomes == [expected_outcome(i) for i in range(CONVERSATIONS)]
    assert ready.status_code == 200

    keys = _all_keys(cluster)
    # The conversations' keys landed on every master (the hash tags spread them), and all expire.
    assert all(count > 0 for count in cluster.keys_per_node()), cluster.keys_per_node()
    assert keys, "nothing was stored"
    assert all(ttl > 0 for ttl in keys.values()), [k for k, ttl in keys.items() if ttl <= 0]
    # Each finished triage left its audit record in the stream, on the stream's own slot.
    with redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port) as client:
        assert client.xlen(STREAM) == CONVERSATIONS


def test_each_conversation_keeps_to_one_slot(cluster: RedisClusterServers) -> None:
    """All keys of one conversation hash to one slot, so one script can touch them together."""
    with redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port) as client:
        for keys in (Keys("m", "a1b2c3"), Keys("v", "CA" + "0" * 32)):
            names = [keys.session, keys.replies, keys.counter, keys.opt_out, keys.finished]
            assert len({client.keyslot(name) for name in names}) == 1


async def test_the_doctor_reads_every_primary(cluster: RedisClusterServers) -> None:
    """`ivr doctor` inspects each of the three masters: noeviction on every one passes; persistence
    off (these test nodes keep nothing) warns, naming the node."""
    checks = {c.name: c for c in await doctor.check_redis(make_settings(redis_url=cluster.url))}
    assert checks["redis"].detail == "answers (3 data node(s))"
    assert checks["redis eviction"].status is Status.PASS
    assert checks["redis persistence"].status is Status.WARN
    assert "persistence is off on 127.0.0.1:" in checks["redis persistence"].detail
