"""Prometheus metrics for one app: what was asked, what was advised, and what went wrong."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Where worker processes keep their counts to be added up (prometheus_client's multiprocess mode).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Webhook latency buckets, in seconds: Twilio allows 15 s in all; we aim far below 0.1 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """Counters and histograms in a registry of their own, so each app (and test) starts at zero."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.latency = Histogram(
            "ivr_webhook_seconds", "Time to answer a webhook.", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.responses = Counter(
            "ivr_webhook_responses", "Webhook responses by HTTP status.", ["route", "status"], registry=r
        )
        self.safety_nets = Counter(
            "ivr_safety_net_answers",
            "Webhooks answered with the safety net because something failed.",
            ["route", "reason"],
            registry=r,
        )
        self.started = Counter(
            "ivr_conversations_started", "Triage conversations started.", ["channel", "lang"], registry=r
        )
        self.outcomes = Counter(
            "ivr_triage_outcomes",
            "Triage conversations ended, by outcome.",
            ["channel", "lang", "outcome"],
            registry=r,
        )
        self.answers = Counter(
            "ivr_answers",
            "Replies to questions, by how they were taken: yes, no, unsure, unclear (not an answer:"
            " asked again) or unconfirmed (a faint spoken no to a red flag, confirmed by keypad).",
            ["channel", "question", "answer"],
            registry=r,
        )
        self.readings = Counter(
            "ivr_answer_readings",
            "Replies to questions by how they were read: decided_by is key, rule (an exact answer, or"
            " emergency or crisis words) or model (the answer model); answer as in ivr_answers.",
            ["channel", "answer", "decided_by"],
            registry=r,
        )
        self.model_probability = Histogram(
            "ivr_answer_model_probability",
            "The answer model's probability for the class it chose, per reply it decided.",
            ["answer"],
            buckets=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
            registry=r,
        )
        self.abandoned = Counter("ivr_calls_abandoned", "Calls that hung up before an outcome.", registry=r)
        self.signature_rejections = Counter(
            "ivr_signature_rejections",
            "Webhooks refused for a missing or wrong X-Twilio-Signature.",
            ["route"],
            registry=r,
        )
        self.refused_before_turn = Counter(
            "ivr_webhooks_refused_before_turn",
            "Webhooks refused before taking a slot: slow_body (not all sent within WEBHOOK_BODY_TIMEOUT),"
            " bad_signature, bad_request (not a form, too large, the client went away).",
            ["route", "reason"],
            registry=r,
        )
        self.redis_errors = Counter(
            "ivr_redis_errors", "Redis operations that failed or timed out.", registry=r
        )
        self.opt_outs = Counter("ivr_opt_outs", "Senders who opted out (STOP and the like).", registry=r)
        self.opt_ins = Counter("ivr_opt_ins", "Senders who opted back in (START, UNSTOP).", registry=r)
        self.rate_limited = Counter(
            "ivr_rate_limited_texts", "Texts not answered because the sender sent too many.", registry=r
        )
        self.replays = Counter(
            "ivr_replays", "Repeated webhooks answered without advancing.", ["channel"], registry=r
        )
        self.help = Counter("ivr_help_requests", "HELP or INFO texts answered.", registry=r)
        self.followups = Counter(
            "ivr_followup_sms",
            "Follow-up texts after calls, by result: offered (at an outcome), offer_lost (Redis could"
            " not keep it), accepted (the caller pressed 1), sent, failed, skipped_opted_out,"
            " skipped_no_number.",
            ["result"],
            registry=r,
        )
        self.followup_delivery = Counter(
            "ivr_followup_delivery",
            "Follow-up texts by final status from Twilio's status callback (delivered, undelivered,"
            " failed) and delivery error code (30006: landline or unreachable carrier).",
            ["status", "error"],
            registry=r,
        )
        self.handoffs = Counter(
            "ivr_nurse_handoffs",
            "Calls put through to the nurse, by result: answered (the nurse took it), not_taken (the"
            " leg answered, by a machine or by no one who pressed 1), unanswered.",
            ["result"],
            registry=r,
        )
        self.nurse_screening = Counter(
            "ivr_nurse_screening",
            "The nurse's leg on answering: whispered (asked to press 1), taken (pressed 1), declined"
            " (another key), invalid (a screening URL without a valid step token, hung up on);"
            " whispered minus taken and declined is no key (a voicemail, or a nurse who did not press).",
            ["result"],
            registry=r,
        )
        self.circuit_opens = Counter(
            "ivr_redis_circuit_opens",
            "Times the Redis circuit breaker opened (each opening lasts at least its cool-off, 1 s).",
            registry=r,
        )
        # This process's view, read at each scrape: whether it is ready, and its circuit breaker.
        self.live = _Live()
        r.register(self.live)

    def watch_breaker(self, breaker: Breaker) -> None:
        """Export the Redis circuit breaker's state, and count each time it opens."""
        self.live.breaker = breaker
        breaker.on_open(self.circuit_opens.inc)

    def set_ready(self, ready: bool) -> None:
        """Readiness as /readyz found it, for the scrape under way."""
        self.live.ready = ready

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format. With several worker processes (PROMETHEUS_MULTIPROC_DIR
        set, see ivr.ops.workers) the counters and histograms are those of every worker added up, so
        that whichever worker a scrape reaches, Prometheus sees one line that only grows."""
        directory = os.environ.get(MULTIPROCESS_DIR)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped upstream
        registry.register(self.live)
        return generate_latest(registry)


class Breaker(Protocol):
    """What the metrics need of the store's circuit breaker (the store knows nothing of Prometheus)."""

    @property
    def closed(self) -> bool:
        """Whether turns go to Redis as usual."""
        ...

    def on_open(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the breaker opens."""
        ...


class _Live(Collector):
    """Gauges of this process's state at scrape time, never summed across workers: readiness (the
    /readyz check) and the circuit breaker."""

    def __init__(self) -> None:
        self.ready = False
        self.breaker: Breaker | None = None

    def collect(self) -> Iterator[Metric]:
        """The gauges, read now."""
        yield GaugeMetricFamily(
            "ivr_ready",
            "1 when this process is ready to take conversations (as /readyz: Redis answers and the"
            " circuit breaker lets turns through), else 0; checked at each scrape.",
            value=1 if self.ready else 0,
        )
        if self.breaker is not None:
            yield GaugeMetricFamily(
                "ivr_redis_circuit_open",
                "1 while the Redis circuit breaker holds webhooks to the safety net (after a Redis failure).",
                value=0 if self.breaker.closed else 1,
            )
