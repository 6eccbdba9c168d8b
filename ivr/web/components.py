"""Everything a request needs, built once by create_app and kept on the app's state."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.application.registry import FlowRegistry
from ivr.application.service import Triage
from ivr.channels.signatures import SignatureChecker
from ivr.channels.voice import VoiceStyle
from ivr.config import Settings
from ivr.ops.followup import FollowUpSender
from ivr.ops.metrics import Metrics
from ivr.ops.observer import Observer
from ivr.store.audit import AuditLog
from ivr.store.sessions import SessionStore
from ivr.web.admission import Admission
from ivr.web.replies import Replies


@dataclass(frozen=True, slots=True)
class Components:
    """The app's parts: settings, flows, the service and its store, the signature check, rendering,
    metrics and what follows a turn, and the gate webhooks wait at."""

    settings: Settings
    registry: FlowRegistry
    triage: Triage
    store: SessionStore
    checker: SignatureChecker
    voice_style: VoiceStyle
    metrics: Metrics
    audit: AuditLog
    followup: FollowUpSender | None
    replies: Replies
    sms_safety_net: str
    voice_safety_net: str
    admission: Admission
    observer: Observer
