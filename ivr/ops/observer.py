"""What a turn leaves behind besides its reply: metrics, the audit record, the follow-up text."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

from ivr.application.service import Triage, Turn
from ivr.channels import sms
from ivr.core.engine import Output
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.core.session import Session
from ivr.ops.followup import FollowUpSender
from ivr.ops.metrics import Metrics
from ivr.store.audit import AuditLog, record_for
from ivr.store.consent import ConsentLog, ConsentRecord

log = logging.getLogger("ivr.ops")
E164 = re.compile(r"\+[1-9]\d{6,14}")

# How a handoff to the nurse ended, by the turn's event, as the handoffs metric names it.
HANDOFF_ENDS = {"handed_off": "answered", "nurse_declined": "not_taken", "nurse_unanswered": "unanswered"}

# Work to run after the reply has gone: a name for the logs, and the work itself.
Later = Callable[[str, Awaitable[object]], None]


class Observer:
    """Counts what turns did and queues what must follow them. Nothing personal reaches a metric
    label or an audit record: channel, language, question, outcome kind, and a keyed hash."""

    def __init__(
        self,
        metrics: Metrics,
        audit: AuditLog,
        pseudonyms: Pseudonyms,
        triage: Triage,
        *,
        followup: FollowUpSender | None = None,
        consent: ConsentLog | None = None,
    ) -> None:
        self.metrics = metrics
        self.audit = audit
        self.pseudonyms = pseudonyms
        self.triage = triage
        self.followup = followup
        self.consent = consent

    def after(self, turn: Turn, channel: str, *, caller: str, later: Later) -> None:
        """Count what a turn did, and queue its audit record for after the reply has gone: every
        webhook that runs a turn hands it here, and only here."""
        m = self.metrics
        if turn.replayed:
            m.replays.labels(channel).inc()
            return
        if turn.fresh:
            m.started.labels(channel, turn.output.lang).inc()
        if turn.heard is not None:
            heard = turn.heard
            m.answers.labels(channel, heard.question, heard.taken).inc()
            m.readings.labels(channel, heard.taken, heard.decided_by).inc()
            if heard.decided_by == "model" and heard.how[1:].isdigit():
                m.model_probability.labels(heard.taken).observe(int(heard.how[1:]) / 100)
        if turn.output.outcome is not None and turn.session is not None:
            kind = turn.flow.outcomes[turn.output.outcome].kind
            m.outcomes.labels(channel, turn.output.lang, kind).inc()
            self.record(turn.flow, turn.session, kind, caller, later)
        counters = {
            "opted_out": m.opt_outs,
            "opted_in": m.opt_ins,
            "rate_limited": m.rate_limited,
            "help": m.help,
        }
        if turn.event in counters:
            counters[turn.event].inc()
        if turn.event in HANDOFF_ENDS:
            m.handoffs.labels(HANDOFF_ENDS[turn.event]).inc()
            if turn.event == "handed_off" and turn.session is not None:
                self.record(turn.flow, turn.session, "handoff", caller, later)

    def abandoned(self, flow: Flow | None, session: Session | None, *, caller: str, later: Later) -> None:
        """A call hung up before its outcome: counted, and its audit record queued when the
        conversation and its flow are still known."""
        self.metrics.abandoned.inc()
        if flow is not None and session is not None:
            self.record(flow, session, "abandoned", caller, later)

    def record(self, flow: Flow, session: Session, outcome: str, caller: str, later: Later) -> None:
        """Queue one audit record: who (keyed hash), when, how it went; never the number itself."""
        entry = record_for(flow, session, outcome, self.pseudonyms.caller(caller), time.time())
        later("audit", self.audit.append(entry))

    def follow_up(
        self, flow: Flow, output: Output, *, caller: str, our_number: str, offer: str, later: Later
    ) -> None:
        """A caller asked, on the call, for its outcome's advice by text (the flow text `offer`):
        record the consent (a keyed hash, never the number) and send the text, both after the reply.
        An opted-out number gets nothing."""
        if self.followup is None or output.outcome is None or not caller or not our_number:
            return
        if not E164.fullmatch(caller):
            # An anonymous or withheld caller ID: there is no number to text.
            self.metrics.followups.labels("skipped_no_number").inc()
            return
        self.metrics.followups.labels("accepted").inc()
        if self.consent is not None:
            record = ConsentRecord(
                ts_ms=int(time.time() * 1000),
                channel="voice",
                lang=output.lang,
                flow=flow.id,
                version=flow.version,
                digest=flow.digest,
                offer=offer,
                outcome=flow.outcomes[output.outcome].kind,
                caller=self.pseudonyms.caller(caller),
            )
            later("consent", self.consent.append(record))
        bodies = sms.messages(flow, output)
        later("followup", self._send_followup(self.followup, caller, our_number, bodies))

    async def _send_followup(
        self, sender: FollowUpSender, caller: str, our_number: str, bodies: list[str]
    ) -> None:
        if await self.triage.opted_out(our_number, caller):
            self.metrics.followups.labels("skipped_opted_out").inc()
            return
        try:
            await sender.send(to=caller, from_=our_number, bodies=bodies)
        except Exception as exc:  # any failure of the REST call: counted and logged, never retried
            self.metrics.followups.labels("failed").inc()
            log.warning("follow-up text failed", extra={"error": type(exc).__name__})
            return
        self.metrics.followups.labels("sent").inc()
