"""Prometheus metrics for one app: what was asked, what was advised, and what went wrong."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

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
        self.abandoned = Counter("ivr_calls_abandoned", "Calls that hung up before an outcome.", registry=r)
        self.signature_rejections = Counter(
            "ivr_signature_rejections",
            "Webhooks refused for a missing or wrong X-Twilio-Signature.",
            ["route"],
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
            "ivr_followup_sms", "Follow-up texts after calls, by result.", ["result"], registry=r
        )
        self.handoffs = Counter(
            "ivr_nurse_handoffs", "Calls put through to the nurse, by result.", ["result"], registry=r
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
