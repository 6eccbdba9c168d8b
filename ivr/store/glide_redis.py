"""The Redis client for one server and for Cluster: valkey-glide, behind the redis-py calls the store makes.

valkey-glide keeps the protocol, the connections and their reconnection in a Rust core shared by
every webhook of the process (one multiplexed connection per node, commands of concurrent
webhooks pipelined on it). This module only adapts: it speaks the few redis-py calls the store
uses (scripts, MULTI/EXEC, a handful of commands), raises redis-py's exception types, so that the
store treats every client alike, and retries a command once when the connection it was sent on
broke (a CLIENT KILL, an idle connection a proxy dropped). Not after a timeout: Redis may still run
that command, and the turn scripts refuse to run late instead (ivr.store.scripts).

A webhook cancelled while its command is in flight leaves the connection alone: its reply is
dropped when it comes, and the other webhooks' replies are matched by the core, not by order here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from glide import (
    AdvancedGlideClientConfiguration,
    AdvancedGlideClusterClientConfiguration,
    BackoffStrategy,
    Batch,
    ClosingError,
    ClusterBatch,
    ExpirySet,
    ExpiryType,
    GlideClient,
    GlideClientConfiguration,
    GlideClusterClient,
    GlideClusterClientConfiguration,
    GlideError,
    Logger,
    LogLevel,
    NodeAddress,
    RequestError,
    Script,
    ServerCredentials,
    TlsAdvancedConfiguration,
)
from glide import ConnectionError as GlideConnectionError
from glide import TimeoutError as GlideTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import (
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = bytes | str | int | float
T = TypeVar("T")
Client = GlideClient | GlideClusterClient

# What glide says when it could not open a connection at all (refused, unreachable, a wrong
# password): the server is unavailable, not refusing a command.
_CONNECT_FAILED = re.compile(r"connect(ion)? failed|IoError|Received error for address", re.IGNORECASE)
# Error replies that mean Redis cannot take writes now, by their first word.
_REPLY_TYPES: dict[str, type[ResponseError]] = {
    "OOM": OutOfMemoryError,
    "READONLY": ReadOnlyError,
    "TRYAGAIN": TryAgainError,
}


def quiet_core_logs() -> None:
    """The core logs to stderr in its own format (addresses, never data); the line's own logs and
    metrics report Redis failures, so only the core's errors are kept."""
    Logger.set_logger_config(LogLevel.ERROR)


def as_redis_error(error: GlideError) -> Exception:
    """The redis-py exception that means what a glide error means."""
    message = str(error)
    if isinstance(error, GlideTimeoutError):
        return RedisTimeoutError("Redis did not answer in time")
    if isinstance(error, GlideConnectionError | ClosingError) or _CONNECT_FAILED.search(message):
        # The message names the address only; it may say why (refused, WRONGPASS), never data.
        return RedisConnectionError(message)
    if isinstance(error, RequestError):
        # An error reply, as glide words it: "OOM ...", or "... ResponseError: unknown command".
        first = message.split(":", 1)[0].split(maxsplit=1)[0] if message.strip() else ""
        return _REPLY_TYPES.get(first, ResponseError)(message)
    return RedisConnectionError(message)


def configuration(
    url: str, *, timeout: float, cluster: bool
) -> GlideClientConfiguration | GlideClusterClientConfiguration:
    """glide's configuration for a redis://, rediss:// or redis(s)+cluster:// URL.

    The connection is opened at the first command, not here: the line starts while Redis is down.
    A rediss:// URL may name the certificate authority to trust as `?ssl_ca_certs=/path/ca.pem`
    (redis-py's name for it); without it, the system's store is used.
    """
    split = urlsplit(url)
    scheme = split.scheme.lower()
    tls = scheme.startswith("rediss")
    query = parse_qs(split.query)
    credentials = None
    netloc = split.netloc
    if "@" in netloc:
        user_info, _, netloc = netloc.rpartition("@")
        user, _, secret = user_info.partition(":")
        if secret or user:
            credentials = ServerCredentials(password=unquote(secret), username=unquote(user) or None)
    addresses = []
    for host_port in netloc.split(","):
        part = urlsplit(f"//{host_port}")
        addresses.append(NodeAddress(part.hostname or "127.0.0.1", part.port or 6379))
    tls_config = None
    if tls and (ca := query.get("ssl_ca_certs")):
        with open(ca[0], "rb") as file:
            tls_config = TlsAdvancedConfiguration(root_pem_cacerts=file.read())
    milliseconds = max(1, round(timeout * 1000))
    # Reconnect at once, then quickly: the circuit breaker already spaces the webhooks' attempts.
    reconnect = BackoffStrategy(num_of_retries=3, factor=50, exponent_base=2)
    if cluster:
        return GlideClusterClientConfiguration(
            addresses,
            use_tls=tls,
            credentials=credentials,
            request_timeout=milliseconds,
            reconnect_strategy=reconnect,
            advanced_config=AdvancedGlideClusterClientConfiguration(
                connection_timeout=milliseconds, tls_config=tls_config
            ),
            lazy_connect=True,
        )
    path = split.path.strip("/")
    return GlideClientConfiguration(
        addresses,
        use_tls=tls,
        credentials=credentials,
        database_id=int(path) if path else None,
        request_timeout=milliseconds,
        reconnect_strategy=reconnect,
        advanced_config=AdvancedGlideClientConfiguration(
            connection_timeout=milliseconds, tls_config=tls_config
        ),
        lazy_connect=True,
    )


class GlideRedis:
    """The part of redis.asyncio.Redis the line uses, over valkey-glide (one server or a Cluster)."""

    def __init__(self, config: GlideClientConfiguration | GlideClusterClientConfiguration) -> None:
        self.config = config
        self.cluster = isinstance(config, GlideClusterClientConfiguration)
        self._glide: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> GlideRedis:
        """A client for the URL; nothing is contacted until the first command."""
        cluster = "+cluster" in url.split("://", 1)[0].lower()
        return cls(configuration(url, timeout=timeout, cluster=cluster))

    async def _client(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._glide is not None and self._loop is loop:
            return self._glide
        if self._glide is not None:  # made on another event loop (a test's), which is gone
            await self.aclose()
        try:
            if isinstance(self.config, GlideClusterClientConfiguration):
                client: Client = await GlideClusterClient.create(self.config)
            else:
                client = await GlideClient.create(self.config)
        except GlideError as exc:
            raise as_redis_error(exc) from exc
        if self._glide is not None:  # another task made one meanwhile: keep that one
            await client.close()
            return self._glide
        self._glide, self._loop = client, loop
        return client

    async def _call(self, command: Callable[[Client], Awaitable[T]]) -> T:
        """Run a command; once more if the connection it went out on broke."""
        client = await self._client()
        try:
            return await command(client)
        except GlideConnectionError:
            pass  # the core reconnects; the command goes again, once
        except GlideError as exc:
            raise as_redis_error(exc) from exc
        try:
            return await command(client)
        except GlideError as exc:
            raise as_redis_error(exc) from exc

    async def execute_command(self, *args: Arg) -> Any:
        """Send one command; its reply (an error reply raises)."""
        return await self._call(lambda c: c.custom_command(list(_encoded(args))))

    async def ping(self) -> bool:
        """Whether Redis answers PONG."""
        return bool(await self._call(lambda c: c.ping()) in (b"PONG", "PONG"))

    async def time(self) -> tuple[int, int]:
        """The server's clock: seconds and microseconds (one node's, on a Cluster)."""
        seconds, micros = await self.execute_command("TIME")
        return int(seconds), int(micros)

    async def get(self, key: str) -> bytes | None:
        """A key's value, or None."""
        return await self._call(lambda c: c.get(key))

    async def set(self, key: str, value: Arg, *, ex: int | None = None, px: int | None = None) -> bool:
        """Set a key, with an expiry in seconds (ex) or milliseconds (px)."""
        expiry = None
        if ex is not None:
            expiry = ExpirySet(ExpiryType.SEC, ex)
        elif px is not None:
            expiry = ExpirySet(ExpiryType.MILLSEC, px)
        data = value if isinstance(value, bytes | str) else repr(value)
        return await self._call(lambda c: c.set(key, data, expiry=expiry)) is not None

    async def hmget(self, name: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """Fields of a hash, None for each one absent."""
        found: list[bytes | None] = await self._call(lambda c: c.hmget(name, list(keys)))
        return found

    async def delete(self, *keys: str) -> int:
        """Delete keys; how many there were."""
        return await self._call(lambda c: c.delete(list(keys)))

    async def exists(self, *keys: str) -> int:
        """How many of the keys exist."""
        return await self._call(lambda c: c.exists(list(keys)))

    async def xrange(
        self, name: str, min: str = "-", max: str = "+", count: int | None = None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Stream entries between two ids, as redis-py returns them (the report reads the audit)."""
        args: list[Arg] = ["XRANGE", name, min, max, *(("COUNT", count) if count is not None else ())]
        # glide hands XRANGE back as {id: [[field, value], ...]}, in the stream's order.
        entries: dict[bytes, list[list[bytes]]] = await self.execute_command(*args) or {}
        return [(entry_id, {pair[0]: pair[1] for pair in pairs}) for entry_id, pairs in entries.items()]

    def register_script(self, script: str) -> GlideScript:
        """A Lua script, called by its SHA1 (glide sends it whole when Redis does not know it)."""
        return GlideScript(self, Script(script))  # type: ignore[no-untyped-call]  # glide leaves it unannotated

    def pipeline(self, transaction: bool = True) -> GlideTransaction:
        """Commands to run together as one MULTI/EXEC transaction."""
        if not transaction:
            raise ValueError("the line runs pipelines as transactions only")
        return GlideTransaction(self)

    async def initialize(self) -> None:
        """Connect now (and, on a Cluster, learn its layout) rather than at the first webhook."""
        await self.ping()

    async def aclose(self) -> None:
        """Close the connections; commands waiting on them fail."""
        client, self._glide, self._loop = self._glide, None, None
        if client is not None:
            await client.close()


class GlideScript:
    """A registered Lua script."""

    def __init__(self, client: GlideRedis, script: Script) -> None:
        self.client = client
        self.script = script

    async def __call__(self, keys: Sequence[str] = (), args: Sequence[Arg] = ()) -> Any:
        key_list, arg_list = list(keys), list(_encoded(args))
        return await self.client._call(lambda c: c.invoke_script(self.script, keys=key_list, args=arg_list))


class GlideTransaction:
    """Commands queued and run as one MULTI/EXEC transaction; an error inside it raises."""

    def __init__(self, client: GlideRedis) -> None:
        self.client = client
        self._commands: list[list[str | bytes]] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._commands.clear()

    def _queue(self, *args: Arg) -> Self:
        self._commands.append(list(_encoded(args)))
        return self

    def delete(self, *keys: str) -> Self:
        """Queue DEL."""
        return self._queue("DEL", *keys)

    def set(self, key: str, value: Arg, *, ex: int | None = None) -> Self:
        """Queue SET, with an expiry in seconds."""
        return self._queue("SET", key, value, *(("EX", ex) if ex is not None else ()))

    def pexpire(self, key: str, milliseconds: int) -> Self:
        """Queue PEXPIRE."""
        return self._queue("PEXPIRE", key, milliseconds)

    def xadd(
        self, name: str, fields: dict[str, str], *, minid: int | None = None, approximate: bool = True
    ) -> Self:
        """Queue XADD, trimming entries older than `minid`."""
        trim: list[Arg] = ["MINID", "~" if approximate else "=", minid] if minid is not None else []
        flat = [part for pair in fields.items() for part in pair]
        return self._queue("XADD", name, *trim, "*", *flat)

    async def execute(self) -> list[Any]:
        """Run the queued commands atomically; their replies, in order."""
        commands = list(self._commands)
        self._commands.clear()

        async def run(client: Client) -> list[Any]:
            if isinstance(client, GlideClusterClient):
                cluster_batch = ClusterBatch(is_atomic=True)
                for args in commands:
                    cluster_batch.custom_command(args)
                replies = await client.exec(cluster_batch, raise_on_error=True)
            else:
                batch = Batch(is_atomic=True)
                for args in commands:
                    batch.custom_command(args)
                replies = await client.exec(batch, raise_on_error=True)
            if replies is None:
                raise ResponseError("the transaction was aborted")
            return list(replies)

        return await self.client._call(run)


def _encoded(args: Sequence[Arg]) -> list[str | bytes]:
    """Arguments as glide takes them: strings and bytes; numbers written as Redis reads them."""
    out: list[str | bytes] = []
    for arg in args:
        if isinstance(arg, bytes | str):
            out.append(arg)
        elif isinstance(arg, bool):
            raise TypeError("booleans are not Redis arguments")
        elif isinstance(arg, int | float):
            out.append(repr(arg))
        else:
            raise TypeError(f"cannot send {type(arg).__name__} to Redis")
    return out
