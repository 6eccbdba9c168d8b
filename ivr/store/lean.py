"""A lean Redis client for one server: one connection per process, commands pipelined automatically.

redis-py spends more Python per command than the rest of a webhook's Redis work put together (its
connection pool, retry wrapper, command parser and observability hooks). For the single-server
case this client does only what the line needs: commands of concurrent webhooks written to one
connection together, once per turn of the event loop (as ioredis's auto-pipelining does), and
replies parsed by hiredis and handed back in order. It speaks the subset of redis-py's interface
the store uses (scripts, MULTI/EXEC pipelines, a few commands), raises redis-py's exception types,
and is chosen by the URL: redis:// and unix:// use it; TLS, Cluster and Sentinel use redis-py.

Failure handling is deliberately blunt: a command that times out, or a connection that breaks,
closes the connection and fails every command waiting on it (their replies can no longer be told
apart); the next command opens a new connection.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = bytes | str | int | float


NOT_REDIS = "the server does not speak the Redis protocol"


class _ReplyError(Exception):
    """An error reply from Redis, as hiredis hands it over; turned into redis-py's types."""


def _as_error(error: _ReplyError) -> ResponseError:
    message = str(error)
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return ResponseError(message)


def encode(args: Sequence[Arg]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bool):
            raise TypeError("booleans are not Redis arguments")
        elif isinstance(arg, int | float):
            data = repr(arg).encode()
        else:
            raise TypeError(f"cannot send {type(arg).__name__} to Redis")
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


@dataclass(frozen=True)
class Address:
    """Where the server is and how to sign in, from a redis:// or unix:// URL."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a unix socket
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Address:
        """The address a redis:// or unix:// URL names."""
        split = urlsplit(url)
        username = unquote(split.username) if split.username else None
        password = unquote(split.password) if split.password else None
        if split.scheme == "unix":
            db = int(dict(p.split("=", 1) for p in split.query.split("&") if "=" in p).get("db", "0"))
            return cls(path=split.path, db=db, username=username, password=password)
        if split.scheme != "redis":
            raise ValueError("the lean client speaks redis:// and unix:// only")
        db = int(split.path.strip("/") or 0)
        return cls(split.hostname or "127.0.0.1", split.port or 6379, None, db, username, password)


def _read_and_forget(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _Connection(asyncio.Protocol):
    """One socket: replies fed to hiredis, handed to the waiting futures in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader(replyError=_ReplyError)
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (uvloop's too)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                if not self.waiting:  # a reply nobody asked for: the stream is out of step
                    self.fail(RedisConnectionError, "unexpected reply from Redis")
                    return
                future = self.waiting.popleft()
                if not future.done():
                    if isinstance(reply, _ReplyError):
                        future.set_exception(_as_error(reply))
                    else:
                        future.set_result(reply)
        except hiredis.ProtocolError:
            # Something answers at this address, but not in Redis's protocol (an HTTP server, say).
            self.fail(RedisConnectionError, NOT_REDIS)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail_waiting(RedisConnectionError, "Redis closed the connection")

    def send(self, command: bytes, replies: int) -> list[asyncio.Future[Any]]:
        """Queue a command for the next write; futures for its `replies` replies, in order."""
        if self.closed or self.transport is None:
            raise RedisConnectionError("not connected to Redis")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(replies)]
        for future in futures:
            # A command given up on (timed out, cancelled) still gets its reply or error later;
            # nobody will read it, and that is fine.
            future.add_done_callback(_read_and_forget)
        self.waiting.extend(futures)
        if not self._out:
            loop.call_soon(self._flush)
        self._out.append(command)
        return futures

    def _flush(self) -> None:
        if self._out and self.transport is not None and not self.closed:
            self.transport.write(b"".join(self._out))
        self._out.clear()

    def fail(self, error: type[Exception], message: str) -> None:
        """Close the socket and fail everything waiting on it."""
        self.closed = True
        self._fail_waiting(error, message)
        if self.transport is not None:
            self.transport.close()

    def _fail_waiting(self, error: type[Exception], message: str) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error(message))
        self._out.clear()


class LeanRedis:
    """The part of redis.asyncio.Redis the line uses, over one auto-pipelined connection."""

    def __init__(self, address: Address, *, timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self._connection: _Connection | None = None
        self._connecting = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> LeanRedis:
        """A client for a redis:// or unix:// URL; nothing is contacted until first use."""
        return cls(Address.from_url(url), timeout=timeout)

    async def _connected(self) -> _Connection:
        connection = self._connection
        if connection is not None and not connection.closed:
            return connection
        async with self._connecting:
            if self._connection is not None and not self._connection.closed:
                return self._connection
            self._connection = await self._open()
            return self._connection

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        a = self.address
        try:
            async with asyncio.timeout(self.timeout):
                if a.path is not None:
                    _, connection = await loop.create_unix_connection(_Connection, a.path)
                else:
                    _, connection = await loop.create_connection(_Connection, a.host, a.port)
                hello: list[list[Arg]] = []
                if a.password is not None:
                    hello.append(["AUTH", a.username, a.password] if a.username else ["AUTH", a.password])
                if a.db:
                    hello.append(["SELECT", a.db])
                for args in hello:
                    (future,) = connection.send(encode(args), 1)
                    await future
        except TimeoutError as exc:
            raise RedisTimeoutError("timed out connecting to Redis") from exc
        except OSError as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc.strerror or exc}") from exc
        return connection

    async def _call(self, command: bytes, replies: int = 1) -> list[Any]:
        connection = await self._connected()
        futures = connection.send(command, replies)
        try:
            async with asyncio.timeout(self.timeout):
                return [await future for future in futures]
        except TimeoutError as exc:
            connection.fail(RedisTimeoutError, "Redis did not answer in time")
            raise RedisTimeoutError("Redis did not answer in time") from exc
        except asyncio.CancelledError:
            # The replies will still come, in order; the socket cannot be trusted to line them up
            # with later commands once their futures are gone, so it goes.
            connection.fail(RedisConnectionError, "a command was cancelled")
            raise

    async def execute_command(self, *args: Arg) -> Any:
        """Send one command; its reply (an error reply raises)."""
        (reply,) = await self._call(encode(args))
        return reply

    # The commands the line uses, with redis-py's names and return values.
    async def ping(self) -> bool:
        """Whether Redis answers PONG."""
        return bool(await self.execute_command("PING") in (b"PONG", "PONG"))

    async def get(self, key: str) -> bytes | None:
        """A key's value, or None."""
        result: bytes | None = await self.execute_command("GET", key)
        return result

    async def set(self, key: str, value: Arg, *, ex: int | None = None, px: int | None = None) -> bool:
        """Set a key, with an expiry in seconds (ex) or milliseconds (px)."""
        args: list[Arg] = ["SET", key, value]
        if ex is not None:
            args += ["EX", ex]
        if px is not None:
            args += ["PX", px]
        return bool(await self.execute_command(*args))

    async def delete(self, *keys: str) -> int:
        """Delete keys; how many there were."""
        return int(await self.execute_command("DEL", *keys))

    async def exists(self, *keys: str) -> int:
        """How many of the keys exist."""
        return int(await self.execute_command("EXISTS", *keys))

    async def xrange(
        self, name: str, min: str = "-", max: str = "+", count: int | None = None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Stream entries between two ids, as redis-py returns them (the report reads the audit)."""
        args: list[Arg] = ["XRANGE", name, min, max, *(("COUNT", count) if count is not None else ())]
        entries = await self.execute_command(*args)
        return [(entry_id, dict(zip(flat[::2], flat[1::2], strict=True))) for entry_id, flat in entries or []]

    def register_script(self, script: str) -> Script:
        """A Lua script to call by its digest."""
        return Script(self, script)

    def pipeline(self, transaction: bool = True) -> Pipeline:
        """Commands to run together as one MULTI/EXEC transaction."""
        if not transaction:
            raise ValueError("the lean client runs pipelines as transactions only")
        return Pipeline(self)

    async def aclose(self) -> None:
        """Close the connection; commands waiting on it fail."""
        if self._connection is not None and self._connection.transport is not None:
            self._connection.fail(RedisConnectionError, "the client was closed")
        self._connection = None


class Script:
    """A Lua script called by its SHA1, loaded once when Redis does not know it yet."""

    def __init__(self, client: LeanRedis, text: str) -> None:
        self.client = client
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: Sequence[str] = (), args: Sequence[Arg] = ()) -> Any:
        try:
            return await self.client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.client.execute_command("EVAL", self.text, len(keys), *keys, *args)


class Pipeline:
    """Commands queued and run as one MULTI/EXEC transaction, in one write."""

    def __init__(self, client: LeanRedis) -> None:
        self.client = client
        self._commands: list[bytes] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._commands.clear()

    def _queue(self, *args: Arg) -> Self:
        self._commands.append(encode(args))
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
        batch = b"".join([encode(["MULTI"]), *self._commands, encode(["EXEC"])])
        replies = await self.client._call(batch, len(self._commands) + 2)
        self._commands.clear()
        result: list[Any] = replies[-1]
        if result is None:
            raise ResponseError("the transaction was aborted")
        return result
