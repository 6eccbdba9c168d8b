"""The flows this process serves, ready to render, and the flow each live conversation is pinned to."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from ivr.core.flow import Flow
from ivr.flows.flowfile import FlowError, parse_flow
from ivr.store.errors import StoreUnavailable
from ivr.store.flow_archive import FlowArchive

log = logging.getLogger(__name__)


class FlowRegistry:
    """Flows bound to this deployment's settings, by id and by content digest.

    New conversations start on `current`. A conversation in progress is looked up by the digest it
    started on: in this process, else in the archive (a flow served before a deploy or restart),
    so it finishes on the same content.
    """

    def __init__(
        self,
        flows: Mapping[str, Flow],
        *,
        active: str,
        emergency_number: str,
        booking_url: str | None,
        crisis_number: str = "988",
        archive: FlowArchive | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if active not in flows:
            raise KeyError(f"flow {active!r} is not among the loaded flows {sorted(flows)}")
        self._emergency_number = emergency_number
        self._crisis_number = crisis_number
        self._booking_url = booking_url
        self._archive = archive
        self._clock = clock
        self._by_digest: dict[tuple[str, str], Flow] = {}
        self._published: dict[tuple[str, str], float] = {}
        for flow in flows.values():
            self._add(flow)
        self.current = self._by_digest[(active, flows[active].digest)]

    def _add(self, flow: Flow) -> Flow:
        bound = flow.bind(
            emergency_number=self._emergency_number,
            booking_url=self._booking_url,
            crisis_number=self._crisis_number,
        )
        self._by_digest[(flow.id, flow.digest)] = bound
        return bound

    def loaded(self, flow_id: str, digest: str) -> Flow | None:
        """The flow with this id and digest if this process knows it, else None."""
        return self._by_digest.get((flow_id, digest))

    def known(self, digest: str) -> Flow | None:
        """The flow version with this digest, under any id, if this process knows it, else None."""
        return next((flow for (_, known), flow in self._by_digest.items() if known == digest), None)

    async def pinned(self, flow_id: str, digest: str) -> Flow | None:
        """The flow a conversation started on, or None when no copy of it survives anywhere."""
        flow = self.loaded(flow_id, digest)
        if flow is None and self._archive is not None:
            archived = await self._archived(self._archive, flow_id, digest)
            if archived is not None:
                # The answer model is not archived with a flow: replies on a resumed conversation
                # are read with the model this process serves for that flow id.
                served = next((f for (fid, _), f in self._by_digest.items() if fid == flow_id), None)
                if served is not None and archived.answer_model is None:
                    archived = archived.with_model(served.answer_model)
                log.info(
                    "resumed a conversation on an archived flow", extra={"flow": flow_id, "digest": digest}
                )
                flow = self._add(archived)
        return flow

    @staticmethod
    async def _archived(archive: FlowArchive, flow_id: str, digest: str) -> Flow | None:
        """The archived flow with exactly this digest, or None if it is gone or does not match."""
        source = await archive.fetch(flow_id, digest)
        if source is None:
            return None
        try:
            flow = parse_flow(source, source=f"archive {flow_id}@{digest}")
        except FlowError:
            log.error("archived flow is unreadable", extra={"flow": flow_id, "digest": digest})
            return None
        if flow.digest != digest:
            log.error("archived flow does not match its digest", extra={"flow": flow_id, "digest": digest})
            return None
        return flow

    async def with_digest(self, digest: str) -> Flow | None:
        """The flow version with this digest, under any id this process knows (a recorded reply
        names only the digest, to stay small)."""
        if (flow := self.known(digest)) is not None:
            return flow
        for flow_id in sorted({flow_id for flow_id, _ in self._by_digest}):
            if (found := await self.pinned(flow_id, digest)) is not None:
                return found
        return None

    async def keep_published(self, flow: Flow) -> None:
        """Publish a flow in use to the archive, at most once per refresh interval per process."""
        if self._archive is None:
            return
        key = (flow.id, flow.digest)
        now = self._clock()
        if now - self._published.get(key, float("-inf")) < self._archive.ttl / 3:
            return
        try:
            await self._archive.publish(flow)
        except StoreUnavailable:
            log.warning("could not publish a flow to the archive; will retry", extra={"flow": flow.id})
            return
        self._published[key] = now
