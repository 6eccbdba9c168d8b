"""The app factory: builds settings, flows, store and routes; nothing is wired at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ivr.application.registry import FlowRegistry
from ivr.application.service import Triage, TriageLimits
from ivr.channels import sms, voice
from ivr.channels.signatures import SignatureChecker
from ivr.channels.voice import VoiceStyle
from ivr.config import ConfigError, Settings, load_settings
from ivr.core.engine import Policy
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.flows.flowfile import load_flows
from ivr.ops.followup import FollowUpSender
from ivr.ops.logs import RequestIdMiddleware
from ivr.ops.metrics import Metrics
from ivr.ops.observer import Observer
from ivr.store.audit import AuditLog
from ivr.store.connect import AnyRedis, connect, embedded
from ivr.store.consent import ConsentLog
from ivr.store.flow_archive import FlowArchive
from ivr.store.sessions import SessionStore
from ivr.web import fallback, health, nurse, simulator
from ivr.web import sms as sms_routes
from ivr.web import voice as voice_routes
from ivr.web import webhook as webhooks
from ivr.web.admission import Admission
from ivr.web.components import Components
from ivr.web.local_mode import LocalMode
from ivr.web.nurse import ACCEPT_PATH, SCREEN_PATH
from ivr.web.replies import Replies
from ivr.web.sms import SMS_STATUS_PATH
from ivr.web.turn_notes import NotingObserver
from ivr.web.voice import FOLLOWUP_PATH, GATHER_PATH, HANDOFF_PATH

log = logging.getLogger("ivr")


def connect_redis(settings: Settings) -> AnyRedis:
    """A real Redis client (one server, Cluster or Sentinel, as REDIS_URL says), or an in-process
    one when no URL is configured."""
    if settings.redis_url:
        return connect(
            settings.redis_url,
            timeout=settings.redis_timeout,
            max_connections=settings.redis_max_connections,
            pool_wait=settings.hard_limit,
        )
    log.warning(
        "REDIS_URL is not set: using an in-process store. Conversations live in this one process "
        "and are lost when it stops; set REDIS_URL in production."
    )
    return embedded()


def require_public_url(settings: Settings) -> None:
    """Production does not start without PUBLIC_BASE_URL: signatures would be checked against the
    URL this process sees, which a client chooses (Host, X-Forwarded-Proto), so a signature made for
    any URL Twilio signs for another deployment would pass."""
    if settings.public_base_url is None:
        raise ConfigError(
            "invalid configuration:\n  PUBLIC_BASE_URL is not set: set it to the https URL configured in the"
            " Twilio Console (e.g. https://triage.example.org); every X-Twilio-Signature is checked"
            " against it, never against the Host a request names"
        )


def settings_url(settings: Settings, path: str) -> str:
    """An absolute URL when the public base is known; else a path Twilio resolves itself."""
    return (settings.public_base_url or "") + path


def _check_languages(settings: Settings, languages: tuple[str, ...]) -> None:
    """Every language the flow speaks has a voice and a recognition locale, or the app does not start:
    a <Say> without a valid voice can fail and leave the emergency instruction unspoken."""
    missing = [
        f"{name} has nothing for the flow language {lang!r}"
        for lang in languages
        for name, values in (
            ("VOICE_NAMES", settings.voice_names),
            ("RECOGNITION_LOCALES", settings.recognition_locales),
        )
        if lang not in values
    ]
    if missing:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {m}" for m in missing))


def _check_followup_texts(flow: Flow) -> None:
    """FOLLOWUP_SMS needs the flow's words for the offer and its answer in every language: the text
    is sent only to a caller who asks for it on the call."""
    missing = [
        f"FOLLOWUP_SMS needs the flow text {tid!r} in {lang!r} (the offer callers answer with 1)"
        for tid in (voice.FOLLOWUP_OFFER, voice.FOLLOWUP_TAKEN)
        for lang in flow.languages
        if tid not in flow.texts or lang not in flow.texts[tid].written
    ]
    if missing:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {m}" for m in missing))


def create_app(
    settings: Settings | None = None,
    *,
    store: SessionStore | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The app for `settings` (from the environment when not given), with its store, flows and
    routes; nothing is contacted until it starts."""
    settings = settings or load_settings()
    # The mode is decided by the settings (Settings.mode); here it only picks the parts.
    local = LocalMode.for_this_process(settings) if settings.mode == "local" else None
    if local is not None:
        token, hash_key = local.auth_token, local.hash_key
        store = store or SessionStore(embedded())
    else:
        require_public_url(settings)
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
        hash_key = settings.ivr_hash_key.get_secret_value() if settings.ivr_hash_key else ""
        store = store or SessionStore(connect_redis(settings), timeout=settings.redis_timeout)

    longest_session = max(settings.sms_session_ttl, settings.voice_session_ttl)
    registry = FlowRegistry(
        load_flows(settings.flows_dir),
        active=settings.flow_id,
        emergency_number=settings.emergency_number,
        crisis_number=settings.crisis_number,
        booking_url=settings.booking_url,
        archive=FlowArchive(store.redis, ttl=3 * longest_session),
    )
    _check_languages(settings, registry.current.languages)
    followup = None
    if settings.followup_sms and settings.twilio_account_sid and local is None:
        _check_followup_texts(registry.current)
        followup = FollowUpSender(
            settings.twilio_account_sid,
            token,
            api_base_url=settings.twilio_api_base_url,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            # Twilio needs an absolute URL; without PUBLIC_BASE_URL delivery is not reported.
            status_callback=settings_url(settings, SMS_STATUS_PATH) if settings.public_base_url else None,
        )
    voice_style = VoiceStyle(
        locales=settings.say_locales(),
        voices=settings.voice_names,
        recognition=settings.recognition_locales,
        speech_models=settings.speech_models,
        speech_timeout=settings.speech_timeout,
        gather_timeout=settings.gather_timeout,
        speech=settings.voice_speech,
        nurse_number=settings.nurse_number,
        dial_timeout=settings.nurse_dial_timeout,
        followup=followup is not None,
    )
    flow = registry.current
    pseudonyms = Pseudonyms(hash_key.encode())
    triage = Triage(
        registry,
        store,
        pseudonyms,
        limits=TriageLimits(
            sms_ttl=settings.sms_session_ttl,
            voice_ttl=settings.voice_session_ttl,
            replay_ttl=settings.replay_ttl,
            texts_per_window=settings.rate_limit_texts,
            text_window=settings.rate_limit_window,
            opt_out_ttl=settings.opt_out_ttl,
        ),
        policy=Policy(
            min_speech_confidence=settings.speech_confidence_threshold,
            handoff=settings.nurse_number is not None,
        ),
        clock=clock,
        advanced_opt_out=settings.advanced_opt_out,
    )
    metrics = Metrics()
    metrics.watch_breaker(store.breaker)
    audit = AuditLog(store.redis, settings.audit_retention_days)
    consent = ConsentLog(store.redis, settings.consent_retention_days)
    components = Components(
        settings=settings,
        registry=registry,
        triage=triage,
        store=store,
        checker=SignatureChecker(
            token,
            settings.public_base_url,
            settings.webhook_connection_overrides,
            shared_keys=settings.shared_keys() if local is None else None,
        ),
        voice_style=voice_style,
        metrics=metrics,
        audit=audit,
        followup=followup,
        replies=Replies(
            voice_style,
            settings_url(settings, GATHER_PATH),
            settings_url(settings, HANDOFF_PATH),
            nurse=settings.nurse_number is not None,
            screen_url=settings_url(settings, SCREEN_PATH),
            accept_url=settings_url(settings, ACCEPT_PATH),
            followup_url=settings_url(settings, FOLLOWUP_PATH) if followup is not None else "",
        ),
        sms_safety_net=sms.safety_net(flow),
        voice_safety_net=voice.safety_net(flow, style=voice_style),
        admission=Admission(settings.webhook_concurrency),
        observer=(
            NotingObserver(
                metrics, audit, pseudonyms, triage, followup=followup, consent=consent, notes=local.notes
            )
            if local is not None
            else Observer(metrics, audit, pseudonyms, triage, followup=followup, consent=consent)
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await components.store.warm_up()
        try:
            yield
        finally:
            # Everything the app opened is closed when it stops: the Redis pool (connections in
            # use included, as after a request cancelled mid-command) and the REST client.
            await components.store.close()
            if components.followup is not None:
                components.followup.close()

    app = FastAPI(
        title="Muscle weakness triage line",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry looks for a configured provider on every request; the line
        # reports through its Prometheus metrics and logs instead, so that check is spared.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.components = components
    webhooks.mount(app, [*sms_routes.webhook, *voice_routes.webhook, *nurse.webhook], components=components)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(fallback.router)
    app.include_router(health.router)
    if local is not None:
        # The simulator's page and routes exist in local mode only: in production they are 404.
        app.state.local_mode = local
        simulator.mount(app)
    return app
