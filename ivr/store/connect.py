"""Connecting to Redis however it is deployed: one server (plain or TLS), Cluster, or Sentinel.

The form of REDIS_URL chooses:

    redis://[user:password@]host:port/db            one server (valkey-glide, ivr.store.glide_redis)
    rediss://[user:password@]host:port/db[?ssl_ca_certs=/path/ca.pem]
                                                    one server over TLS (valkey-glide)
    unix:///path/to/redis.sock?db=0                 one server on a unix socket (redis-py)
    redis+cluster://[user:password@]host:port[,host:port...]    Redis Cluster, any nodes as seeds
                                                    (valkey-glide)
    rediss+cluster://...                            Redis Cluster over TLS (valkey-glide)
    redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]
                                                    the master Sentinel names for `service` (redis-py:
                                                    valkey-glide has no Sentinel support)
    rediss+sentinel://...                           the same, the data nodes over TLS

Every client gets the same timeouts and a single quick retry of a broken connection: the webhook
budget bounds how long anyone waits, and the store's circuit breaker answers with the safety net
meanwhile. redis-py stays for what valkey-glide cannot reach (Sentinel, unix sockets), for the
operator tools that ask Redis about itself (`ivr doctor`), and as the in-process store's interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import fakeredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.store.glide_redis import GlideRedis, quiet_core_logs

# Every client the app uses quacks the same for our commands (scripts, pipelines, streams).
AnyRedis = Redis | RedisCluster | GlideRedis

SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel")


class RedisUrlError(ValueError):
    """REDIS_URL is not one of the forms above."""


@dataclass(frozen=True)
class Target:
    """What a REDIS_URL names."""

    mode: str  # single, cluster or sentinel
    tls: bool
    nodes: tuple[tuple[str, int], ...]  # cluster seeds or sentinels
    service: str = ""  # sentinel only
    db: int = 0
    username: str | None = None
    password: str | None = None


def parse(url: str) -> Target:
    """Read a cluster or sentinel URL (single-server URLs are left to redis-py)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SCHEMES or "://" not in url:
        raise RedisUrlError(f"REDIS_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    tls = scheme.startswith("rediss")
    if scheme in ("redis", "rediss", "unix"):
        return Target("single", tls, ())
    mode = scheme.split("+", 1)[1]
    rest = url.split("://", 1)[1].partition("?")[0]
    credentials, _, hosts_and_path = rest.rpartition("@")
    hosts, _, path = hosts_and_path.partition("/")
    nodes = tuple(_host_port(h, 26379 if mode == "sentinel" else 6379) for h in hosts.split(",") if h)
    if not nodes:
        raise RedisUrlError(f"REDIS_URL names no {mode} nodes")
    username = password = None
    if credentials:
        user, _, secret = credentials.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    parts = [p for p in path.split("/") if p]
    if mode == "cluster":
        if parts:
            raise RedisUrlError("a cluster URL has no path: Redis Cluster has only database 0")
        return Target("cluster", tls, nodes, username=username, password=password)
    if not parts or len(parts) > 2:
        raise RedisUrlError("a sentinel URL ends with /service or /service/db")
    try:
        db = int(parts[1]) if len(parts) == 2 else 0
    except ValueError as exc:
        raise RedisUrlError("the database in a sentinel URL is a number") from exc
    return Target(
        "sentinel", tls, nodes, service=unquote(parts[0]), db=db, username=username, password=password
    )


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    split = urlsplit(f"//{text}")
    if not split.hostname:
        raise RedisUrlError(f"bad host in REDIS_URL: {text!r}")
    try:
        return split.hostname, split.port or default_port
    except ValueError as exc:
        raise RedisUrlError(f"bad port in REDIS_URL: {text!r}") from exc


async def close(client: AnyRedis) -> None:
    """Close a client and, for Sentinel, the connections to the Sentinels it asked."""
    await client.aclose()
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()


def _one_retry() -> Retry:
    """One quick retry when a connection breaks (an idle one the server or a proxy closed), none
    after a timeout: a Redis that did not answer in time will not answer a second try sooner, and
    the caller is already waiting."""
    return Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,))


def connect(url: str, *, timeout: float, max_connections: int, pool_wait: float) -> AnyRedis:
    """A client for REDIS_URL with short timeouts. Nothing is contacted until first use."""
    target = parse(url)
    if target.mode in ("single", "cluster") and not url.lower().startswith("unix:"):
        # One server or a Cluster: valkey-glide's multiplexed connections (see ivr.store.glide_redis).
        quiet_core_logs()
        return GlideRedis.from_url(url, timeout=timeout)
    return connect_redis_py(url, timeout=timeout, max_connections=max_connections, pool_wait=pool_wait)


def connect_redis_py(
    url: str, *, timeout: float, max_connections: int, pool_wait: float
) -> Redis | RedisCluster:
    """redis-py's client for REDIS_URL, whatever its form: the whole command set, for tools such as
    `ivr doctor` that ask Redis about itself (INFO, CONFIG GET)."""
    target = parse(url)
    common: dict[str, Any] = {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": _one_retry(),
    }
    if target.mode == "single":
        # Under load, requests queue for a pooled connection rather than fail;
        # the webhook budget (shorter than the pool's wait) still bounds how long anyone waits.
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=pool_wait, health_check_interval=30, **common
        )
        client: Redis = Redis.from_pool(pool)
        return client
    if target.mode == "cluster":
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            max_connections=max_connections,
            ssl=target.tls,
            username=target.username,
            password=target.password,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=_one_retry(),
        )
    sentinel = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves this one unannotated
        list(target.nodes),
        # The URL's credentials are the data nodes'; Sentinels are reached without them.
        sentinel_kwargs={"socket_connect_timeout": timeout, "socket_timeout": timeout},
        **common,
    )
    master: Redis = sentinel.master_for(
        target.service,
        db=target.db,
        ssl=target.tls,
        max_connections=max_connections,
        username=target.username,
        password=target.password,
    )
    return master


def embedded() -> AnyRedis:
    """An in-process store that runs the same Lua scripts as Redis, for one process (local use,
    `ivr chat`); nothing survives the process."""
    client: AnyRedis = fakeredis.FakeAsyncRedis()
    return client
