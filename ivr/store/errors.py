"""What the store raises when it cannot take a turn, and the Redis errors that mean it cannot."""

from __future__ import annotations

from redis.exceptions import ClusterError, ReadOnlyError, RedisClusterException, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Errors that mean Redis cannot take the turn now, not that the turn is wrong: the network, a
# timeout, a Sentinel failover under way (the old master is read-only, or no master is known yet),
# a Cluster moving slots or missing a node.
UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ReadOnlyError,
    TryAgainError,
    ClusterError,
    RedisClusterException,
)
# Everything that means the store failed a call: unavailable, or an error reply (out of memory, a
# script refused). Each is a store error: counted, the circuit breaker opened, readiness lost.
STORE_ERRORS = (*UNAVAILABLE, ResponseError)


class StoreUnavailable(ConnectionError):
    """Redis cannot be reached (now, or it failed a moment ago and is left alone for a while);
    the caller answers with the safety net."""


class StoreLate(StoreUnavailable):
    """Redis ran a turn only after its deadline (it had stalled), so saved nothing."""


class StoreContention(RuntimeError):
    """A conversation changed under us on every attempt; the caller answers with the safety net."""
