"""The flows this process serves, ready to render, and the flow each live conversation is pinned to."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.flow import Flow


class FlowRegistry:
    """Flows bound to this deployment's settings, by id and by content digest.

    New conversations start on `current`; a conversation in progress is looked up by the digest
    it started on, so it finishes on the same content.
    """

    def __init__(
        self,
        flows: Mapping[str, Flow],
        *,
        active: str,
        emergency_number: str,
        booking_url: str | None,
    ) -> None:
        if active not in flows:
            raise KeyError(f"flow {active!r} is not among the loaded flows {sorted(flows)}")
        self._emergency_number = emergency_number
        self._booking_url = booking_url
        self._by_digest: dict[tuple[str, str], Flow] = {}
        for flow in flows.values():
            self.add(flow)
        self.current = self._by_digest[(active, flows[active].digest)]

    def add(self, flow: Flow) -> Flow:
        """Bind and keep a flow; returns the bound flow."""
        bound = flow.bind(emergency_number=self._emergency_number, booking_url=self._booking_url)
        self._by_digest[(flow.id, flow.digest)] = bound
        return bound

    def pinned(self, flow_id: str, digest: str) -> Flow | None:
        return self._by_digest.get((flow_id, digest))
