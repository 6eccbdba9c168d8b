"""Structured JSON logs: a request id and Twilio SIDs on every line, and nothing personal, by construction."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
TWILIO_SIDS: ContextVar[dict[str, str]] = ContextVar("twilio_sids", default={})  # noqa: B039 - never mutated

# The only extra fields a log line may carry. Anything else passed in `extra` is dropped, so a
# careless log call cannot leak a phone number or a message through a field name.
SAFE_FIELDS = (
    "route",
    "reason",
    "error",
    "at",
    "status",
    "flow",
    "digest",
    "limit",
    "event",
    "channel",
    "lang",
    "outcome",
    "result",
    "duration_ms",
    "count",
    "attempts",
)
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A Twilio SID: two capital letters and 32 hex digits. Logged cut short: enough to find the
# message or call among a day's, and a SID-sized field whatever a client sent.
_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
SID_LOGGED = 10


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, SIDs and safe fields."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object: time, level, logger, message, and the allowed fields only."""
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if request_id := REQUEST_ID.get():
            line["request_id"] = request_id
        line.update(TWILIO_SIDS.get())
        for field in SAFE_FIELDS:
            if field in record.__dict__:
                line[field] = record.__dict__[field]
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: an exception's message can quote what a caller said.
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """A dictConfig for the app and uvicorn alike (uvicorn applies it in every worker)."""
    formatter = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn.access": {"level": "WARNING"},
            # Twilio's HTTP client logs each API request at INFO; keep it quiet.
            "twilio": {"level": "WARNING"},
        },
    }


def set_sids(**sids: str) -> None:
    """Record the Twilio SIDs of the webhook being handled, for every log line it writes."""
    TWILIO_SIDS.set({k: short_sid(v) for k, v in sids.items() if v})


def short_sid(sid: str) -> str:
    """A SID as logged: its prefix and first hex digits, or "malformed" for anything else."""
    return sid[:SID_LOGGED] if _SID.fullmatch(sid) else "malformed"


class RequestIdMiddleware:
    """Gives each request an id (the caller's X-Request-Id when it is sane), for its log lines and
    its response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        sids_token = TWILIO_SIDS.set({})

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            TWILIO_SIDS.reset(sids_token)
