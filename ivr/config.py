"""Settings from the environment (and `.env`), checked at start so a bad deployment fails fast."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ivr.core import gsm
from ivr.store.connect import RedisUrlError
from ivr.store.connect import parse as redis_target

PACKAGED_FLOWS = Path(__file__).resolve().parent.parent / "flows"

# Values people paste from examples instead of a real secret.
_PLACEHOLDER = re.compile(
    r"^(|x+|0+|change[-_ ]?me.*|your[-_ ].*|.*placeholder.*|secret|test|token|dev|replace[-_ ]?me.*)$",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 16
# Twilio gives up on a webhook after 15 s (voice callers then hear an application error); every
# answer, the safety net included, must have left by then, with a second to spare for the network.
TWILIO_WAITS_SECONDS = 15.0
NETWORK_MARGIN_SECONDS = 1.0
MIN_HASH_KEY_LENGTH = 32


class ConfigError(ValueError):
    """Configuration that the service refuses to start with."""


class Settings(BaseSettings):
    """Every knob of the service. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    twilio_auth_token: SecretStr | None = Field(
        None,
        description="Auth Token of the Twilio account; webhook signatures are checked with it.",
    )
    ivr_hash_key: SecretStr | None = Field(
        None, description="Secret key for the keyed hash that replaces phone numbers (32+ chars)."
    )
    ivr_insecure_dev: bool = Field(
        False,
        description="Development only: allow a missing token and hash key (logged loudly).",
    )
    redis_url: str | None = Field(
        None,
        description=(
            "redis://, rediss:// (TLS), redis+cluster:// or redis+sentinel:// URL (see the README);"
            " unset means an in-process store (one process)."
        ),
    )
    public_base_url: str | None = Field(
        None,
        description="The https URL Twilio calls, e.g. https://triage.example.org (no trailing /).",
    )
    emergency_number: str = Field("911", description="The number people are told to call.")
    booking_url: str | None = Field(None, description="Link for booking an appointment (texts only).")
    sms_session_ttl: int = Field(3600, ge=60, le=7 * 86400, description="Idle seconds an SMS triage is kept.")
    voice_session_ttl: int = Field(900, ge=60, le=86400, description="Idle seconds a call's triage is kept.")
    flows_dir: Path = Field(PACKAGED_FLOWS, description="Directory of flow files.")
    flow_id: str = Field("muscle-weakness", description="The flow new conversations start on.")
    voice_locales: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"en": "en-US", "es": "es-MX"},
        description="Speech locale per flow language, as lang=locale pairs, comma separated.",
    )
    voice_names: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"en": "Polly.Joanna", "es": "Polly.Mia"},
        description="Text-to-speech voice per flow language, as lang=voice pairs.",
    )
    gather_timeout: int = Field(
        6, ge=2, le=30, description="Seconds of silence before a question is repeated."
    )
    voice_speech: bool = Field(True, description="Accept spoken answers on calls, as well as keys.")
    speech_confidence_threshold: float = Field(
        0.6, ge=0, le=1, description="A spoken no to a red flag below this confidence is confirmed by keypad."
    )
    redis_timeout: float = Field(
        1.0,
        gt=0,
        le=3,
        description=(
            "Seconds before a Redis connect or command is given up. Redis answers in well under a"
            " millisecond; this only has to outlast a busy event loop, so that lag is not taken"
            " for a dead Redis."
        ),
    )
    webhook_budget: float = Field(
        8.0,
        gt=0,
        le=TWILIO_WAITS_SECONDS,
        description=(
            "Seconds a webhook may wait for its turn (see WEBHOOK_CONCURRENCY) before answering with"
            " the safety net (Twilio waits 15 s in all)."
        ),
    )
    redis_max_connections: int = Field(64, ge=2, le=10_000, description="Redis connections per process.")
    webhook_concurrency: int = Field(
        32,
        ge=1,
        le=10_000,
        description=(
            "Webhooks one process works on at once; the others wait their turn, in order, for at"
            " most WEBHOOK_BUDGET."
        ),
    )
    replay_ttl: int = Field(
        600,
        ge=10,
        le=86400,
        description="Seconds the reply to a MessageSid is kept, to answer repeats alike.",
    )
    rate_limit_texts: int = Field(
        20, ge=1, description="Texts one sender may send in the window before pausing."
    )
    rate_limit_window: int = Field(300, ge=10, description="Rate-limit window in seconds.")
    opt_out_ttl: int = Field(
        400 * 86400, ge=86400, description="Seconds an opt-out (STOP) is kept; it lapses after that."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["json", "text"] = Field("json", description="json (one object per line) or text.")
    nurse_number: str | None = Field(
        None, description="E.164 number callers reach by pressing 0; unset: no handoff."
    )
    nurse_dial_timeout: int = Field(20, ge=5, le=120, description="Seconds the nurse's phone rings.")
    followup_sms: bool = Field(False, description="Text callers the advice they heard, after the call.")
    twilio_account_sid: str | None = Field(
        None, description="Account SID: follow-up texts, `ivr twilio setup` and `ivr doctor`."
    )
    twilio_api_key: str | None = Field(
        None, description="API key SID (SK...), instead of the Auth Token, for `ivr twilio setup`/`doctor`."
    )
    twilio_api_secret: SecretStr | None = Field(None, description="The API key's secret.")
    twilio_api_base_url: str | None = Field(None, description="Twilio REST API base URL (tests, staging).")
    audit_retention_days: int = Field(90, ge=1, le=3650, description="Days outcome records are kept.")

    @property
    def hard_limit(self) -> float:
        """The most a webhook can take: its budget, then at worst a started turn's Redis calls
        (a script, a second one on a miss, a flow from the archive) each taking the Redis timeout."""
        return self.webhook_budget + 3 * self.redis_timeout

    @model_validator(mode="after")
    def _pool_covers_webhooks(self) -> Self:
        if self.webhook_concurrency > self.redis_max_connections:
            raise ValueError(
                "WEBHOOK_CONCURRENCY must not exceed REDIS_MAX_CONNECTIONS: each webhook at work may"
                " hold a Redis connection"
            )
        return self

    @model_validator(mode="after")
    def _within_twilio_wait(self) -> Self:
        if self.hard_limit > TWILIO_WAITS_SECONDS - NETWORK_MARGIN_SECONDS:
            raise ValueError(
                "WEBHOOK_BUDGET + 3 x REDIS_TIMEOUT must stay under 14 seconds: Twilio gives up on a"
                f" webhook after {TWILIO_WAITS_SECONDS:.0f} s"
            )
        return self

    @field_validator("nurse_number")
    @classmethod
    def _nurse_number(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError("must be an E.164 number, e.g. +15551234567")
        return value

    @model_validator(mode="after")
    def _followup(self) -> Self:
        if self.followup_sms and not re.fullmatch(r"AC[0-9a-f]{32}", self.twilio_account_sid or ""):
            raise ValueError("FOLLOWUP_SMS needs TWILIO_ACCOUNT_SID (AC followed by 32 hex digits)")
        return self

    @field_validator("voice_locales", "voice_names", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("expected lang=value pairs separated by commas")
            return {k.strip(): v.strip() for k, v in pairs}
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            redis_target(value)
        except RedisUrlError as exc:
            raise ValueError(str(exc)) from None  # the message names the form, never the password
        return value

    @field_validator("emergency_number")
    @classmethod
    def _emergency_number(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2,6}", value):
            raise ValueError("must be 2 to 6 digits, e.g. 911")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an absolute http(s) URL without query, e.g. https://host")
        return value.rstrip("/")

    @field_validator("booking_url")
    @classmethod
    def _booking_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"https?://\S+", value):
            raise ValueError("must be an http(s) URL")
        if not gsm.is_gsm7(value) or len(value) > 120:
            raise ValueError("must be plain GSM-7 text of at most 120 characters, to fit a text message")
        return value

    @model_validator(mode="after")
    def _secrets(self) -> Self:
        if self.ivr_insecure_dev:
            return self
        problems = []
        token = self.twilio_auth_token.get_secret_value() if self.twilio_auth_token else ""
        if _PLACEHOLDER.match(token) or len(token) < MIN_SECRET_LENGTH:
            problems.append(
                "TWILIO_AUTH_TOKEN is missing or a placeholder: set it to the Auth Token from the "
                "Twilio Console (Account > API keys & tokens)"
            )
        key = self.ivr_hash_key.get_secret_value() if self.ivr_hash_key else ""
        if _PLACEHOLDER.match(key) or len(key) < MIN_HASH_KEY_LENGTH:
            problems.append(
                "IVR_HASH_KEY is missing, a placeholder or shorter than 32 characters: "
                "generate one with `openssl rand -hex 32` and keep it stable"
            )
        if problems:
            raise ValueError(
                "; ".join(problems) + " (for local development only, IVR_INSECURE_DEV=1 skips this)"
            )
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with a readable error instead of a traceback."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            lines.append(f"  {where}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
