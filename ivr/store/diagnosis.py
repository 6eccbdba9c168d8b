"""A Redis failure in one sentence a person can act on: which server, what went wrong, what to do."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from redis.exceptions import AuthenticationError, InvalidResponse, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What valkey-glide says when the peer answered the handshake with something that is not Redis
# and closed: the probe below tells that from a Redis that dropped the connection.
_DRIVER_ENDED = "connection driver unexpectedly terminated"
PROBE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong, and what to do about it."""

    problem: str
    todo: str

    def __str__(self) -> str:
        return f"{self.problem}: {self.todo}"


def where(url: str) -> str:
    """The server a REDIS_URL names, as host:port, without its password; for a Cluster or Sentinel
    URL (several hosts), "the Redis servers in REDIS_URL"."""
    split = urlsplit(url)
    if "+" in split.scheme or "," in split.netloc:
        return "the Redis servers in REDIS_URL"
    if split.scheme == "unix":
        return f"Redis at {split.path}"
    try:
        port = split.port or 6379
    except ValueError:
        return "the Redis in REDIS_URL"
    return f"Redis at {split.hostname or '127.0.0.1'}:{port}"


def redis_failure(exc: BaseException, url: str) -> Failure | None:
    """What went wrong reaching the Redis of `url`, and what to do, or None when `exc` is not a
    failure to reach or sign in to Redis. Never repeats the password."""
    at = where(url)
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    if "WRONGPASS" in text or "invalid username-password" in text or "invalid password" in text:
        return Failure(
            f"{at} refused the password in REDIS_URL",
            "put the right one in REDIS_URL (redis://:PASSWORD@host:port/0)",
        )
    if (
        "NOAUTH" in text
        or "Authentication required" in text
        or any(isinstance(e, AuthenticationError) for e in chain)
    ):
        return Failure(
            f"{at} needs a password and REDIS_URL has none", "add it (redis://:PASSWORD@host:port/0)"
        )
    ended = _DRIVER_ENDED in text and speaks_other_than_redis(url)
    if ended or "Protocol error" in text or any(isinstance(e, InvalidResponse) for e in chain):
        return Failure(
            f"something answers at {at.removeprefix('Redis at ')}, but it is not Redis",
            "point REDIS_URL at Redis's port (6379 unless it was changed)",
        )
    if any(isinstance(e, RedisTimeoutError | TimeoutError) for e in chain):
        return Failure(
            f"{at} did not answer in time",
            "check the host and port in REDIS_URL, the network, and that Redis runs",
        )
    if any(isinstance(e, RedisError | OSError) for e in chain):
        return Failure(
            f"{at} does not answer", "start Redis (redis-server) or point REDIS_URL at where it runs"
        )
    return None


def speaks_other_than_redis(url: str) -> bool:
    """Whether what listens at a redis:// URL's host and port answers a PING with something no
    Redis would say (a web server's "HTTP/1.1 400"): one PING on a plain socket, for a diagnosis
    only, never for serving."""
    split = urlsplit(url)
    if split.scheme not in ("redis", "rediss") or "," in split.netloc:
        return False
    try:
        port = split.port or 6379
        with socket.create_connection((split.hostname or "127.0.0.1", port), timeout=PROBE_SECONDS) as sock:
            sock.sendall(b"PING\r\n")
            first = sock.recv(64)
    except (OSError, ValueError):
        return False
    # Every Redis reply opens with one of these type bytes (RESP2 and RESP3).
    return bool(first) and first[:1] not in b"+-:$*%_,#!=(|~>"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, innermost last."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain
