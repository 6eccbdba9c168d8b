"""Flow definitions kept in Redis by digest, so every conversation finishes on the flow it began on.

The archive keeps a flow's source (the document its file was read from) and hands it back as it
was stored; reading it into a flow is the flow loader's work (ivr.flows), done by the registry."""

from __future__ import annotations

import json
import logging
from typing import Any

from ivr.core.flow import Flow
from ivr.store.connect import AnyRedis
from ivr.store.errors import STORE_ERRORS, StoreUnavailable

log = logging.getLogger(__name__)


def archive_key(flow_id: str, digest: str) -> str:
    """The key a flow version is archived under."""
    return f"ivr:flow:{flow_id}:{digest}"


class FlowArchive:
    """Published flows, expiring `ttl` seconds after their last publication.

    A process publishes the flows it serves, and any older flow it finds a conversation on, at
    least every `ttl / 3` seconds; a conversation idles at most its session TTL, so choosing
    `ttl` at three times the longest session TTL keeps every live conversation's flow available
    across deploys and restarts.
    """

    def __init__(self, redis: AnyRedis, ttl: int) -> None:
        self.redis = redis
        self.ttl = ttl

    async def publish(self, flow: Flow) -> None:
        """Store a flow under its digest (StoreUnavailable when Redis cannot take it)."""
        body = json.dumps(flow.source, sort_keys=True, ensure_ascii=False)
        try:
            await self.redis.set(archive_key(flow.id, flow.digest), body, ex=self.ttl)
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"Redis failed: {type(exc).__name__}") from exc

    async def fetch(self, flow_id: str, digest: str) -> dict[str, Any] | None:
        """The archived source of the flow version with this digest, or None if it is gone or
        unreadable (StoreUnavailable when Redis cannot answer)."""
        try:
            raw = await self.redis.get(archive_key(flow_id, digest))
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"Redis failed: {type(exc).__name__}") from exc
        if raw is None:
            return None
        try:
            source = json.loads(raw)
        except ValueError:
            source = None
        if not isinstance(source, dict):
            log.error("archived flow is unreadable", extra={"flow": flow_id, "digest": digest})
            return None
        return source
