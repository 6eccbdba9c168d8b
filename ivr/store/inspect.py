"""What a Redis deployment is set to, for `ivr doctor`: its eviction policy and persistence, per node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisError, ResponseError

from ivr.store.connect import close, connect_redis_py
from ivr.store.diagnosis import redis_failure
from ivr.store.errors import UNAVAILABLE, StoreUnavailable


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """One data node (the master; each primary of a Cluster). None: Redis would not say (managed
    services often disable CONFIG)."""

    node: str
    maxmemory_policy: str | None
    aof: bool | None  # append-only file on
    save: str | None  # RDB snapshot rules; "" when snapshots are off


async def inspect(url: str, *, wait: float = 3) -> list[NodeSettings]:
    """The settings of each data node REDIS_URL leads to, each command given `wait` seconds.
    Raises StoreUnavailable when Redis does not answer."""
    client = connect_redis_py(url, timeout=wait, max_connections=4, pool_wait=wait)
    try:
        await client.ping()
        if isinstance(client, RedisCluster):
            return [await _node(client, f"{n.host}:{n.port}", n) for n in client.get_primaries()]
        return [await _node(client, "", None)]
    except (*UNAVAILABLE, RedisError) as exc:  # a wrong password and a port that is not Redis too
        found = redis_failure(exc, url)
        raise StoreUnavailable(
            str(found) if found else f"Redis does not answer: {type(exc).__name__}"
        ) from exc
    finally:
        await close(client)


async def _node(client: Redis | RedisCluster, name: str, node: ClusterNode | None) -> NodeSettings:
    target: dict[str, Any] = {"target_nodes": node} if node is not None else {}
    info: dict[str, Any] = await client.info("persistence", **target)
    aof = info.get("aof_enabled")
    return NodeSettings(
        node=name,
        maxmemory_policy=await _config(client, "maxmemory-policy", target),
        aof=None if aof is None else bool(int(aof)),
        save=await _config(client, "save", target),
    )


async def _config(client: Redis | RedisCluster, name: str, target: dict[str, Any]) -> str | None:
    try:
        found: dict[Any, Any] = await client.config_get(name, **target)
    except ResponseError:  # CONFIG renamed or refused (ACL, a managed service)
        return None
    value = found.get(name, found.get(name.encode()))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
