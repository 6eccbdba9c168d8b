"""Settings from the environment (and `.env`), checked at start so a bad deployment fails fast."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ivr.channels import nurse, polly
from ivr.channels.voice import DEFAULT_SPEECH_MODELS
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
# Twilio's webhook connection overrides and their allowed values, in milliseconds or a count ("Webhook
# connection overrides", twilio.com/docs/usage/webhooks/webhooks-connection-overrides); None: a word.
CONNECTION_OVERRIDES: dict[str, tuple[int, int] | None] = {
    "ct": (100, 10000),
    "rt": (100, 15000),
    "tt": (100, 15000),
    "rc": (0, 5),
    "rp": None,
    "e": None,
    "sni": None,
}
# <Gather speechModel> values Twilio documents as generic models (its <Gather> reference), which it
# maps to a provider itself and fails over; a typo here would reach every call, so others are refused.
SPEECH_MODELS = frozenset(
    {"default", "numbers_and_commands", "phone_call", "experimental_conversations", "experimental_utterances"}
)
# The retry policies `rp` may list: retry after a 4xx or a 5xx answer, a connect timeout, a read
# timeout, or all of these (the same guide). Anything else fails every webhook with error 11243.
RETRY_POLICIES = frozenset({"4xx", "5xx", "ct", "rt", "all"})
LOOPBACK_HOST = "127.0.0.1"
PRODUCTION_HOST = "0.0.0.0"  # noqa: S104 - a server in a container listens on all interfaces
# What to set to leave local mode, said wherever the service refuses to do something without it.
SET_THE_SECRETS = (
    "set TWILIO_AUTH_TOKEN to the Auth Token from the Twilio Console (Account > API keys & tokens)"
    " and IVR_HASH_KEY to a secret of 32+ characters (`openssl rand -hex 32`)"
)

Mode = Literal["production", "local"]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    ivr_insecure_dev: str | None = Field(
        None,
        description="Retired: with neither secret set, the service runs in local mode instead.",
    )
    redis_url: str | None = Field(
        None,
        description=(
            "redis://, rediss:// (TLS), redis+cluster:// or redis+sentinel:// URL (see docs/scaling.md);"
            " unset means an in-process store (one process)."
        ),
    )
    public_base_url: str | None = Field(
        None,
        description="The https URL Twilio calls, e.g. https://triage.example.org (no trailing /).",
    )
    twilio_numbers: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description=(
            "The Twilio numbers (E.164, comma-separated) this deployment serves; texts and calls to any"
            " other number of the account get the safety net and are counted. Unset: every number."
        ),
    )
    emergency_number: str = Field("911", description="The number people are told to call.")
    crisis_number: str = Field(
        "988", description="The suicide and crisis line people are told to call or text (988 in the US)."
    )
    booking_url: str | None = Field(None, description="Link for booking an appointment (texts only).")
    sms_session_ttl: int = Field(3600, ge=60, le=7 * 86400, description="Idle seconds an SMS triage is kept.")
    voice_session_ttl: int = Field(900, ge=60, le=86400, description="Idle seconds a call's triage is kept.")
    flows_dir: Path = Field(PACKAGED_FLOWS, description="Directory of flow files.")
    flow_id: str = Field("muscle-weakness", description="The flow new conversations start on.")
    voice_names: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"en": "Polly.Joanna", "es": "Polly.Mia"},
        description="Amazon Polly voice per flow language (<Say voice>), as lang=voice pairs.",
    )
    voice_locales: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="<Say language> per flow language; unset: the voice's own locale, the only valid one.",
    )
    recognition_locales: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"en": "en-US", "es": "es-US"},
        description="Speech recognition locale per flow language (<Gather language>), as lang=locale pairs.",
    )
    speech_models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_SPEECH_MODELS),
        description=(
            "<Gather speechModel> per flow language, as lang=model pairs; a language left out lets"
            " Twilio pick the model (docs/twilio.md says why English is phone_call)."
        ),
    )
    speech_timeout: int = Field(
        1,
        ge=1,
        le=10,
        description=(
            "Seconds of silence that end a spoken answer where a speech model is set (Twilio takes"
            " speechTimeout='auto' only without one); elsewhere 'auto'."
        ),
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
    webhook_body_timeout: float = Field(
        3.0,
        ge=0.1,
        le=10,
        description=(
            "Seconds a webhook's body may take to arrive; it is read and its signature checked before"
            " it waits for a turn, so a slow or unsigned client never holds one (Twilio sends the whole"
            " form at once)."
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
    advanced_opt_out: bool = Field(
        False,
        description=(
            "Twilio's Advanced Opt-Out is on for the number's Messaging Service: opting out, back in and"
            " help follow the OptOutType Twilio sends, and the line's own keyword lists are not used."
        ),
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["json", "text"] = Field("json", description="json (one object per line) or text.")
    nurse_number: str | None = Field(
        None, description="E.164 number callers reach by pressing 0; unset: no handoff."
    )
    nurse_dial_timeout: int = Field(20, ge=5, le=120, description="Seconds the nurse's phone rings.")
    nurse_whisper: str = Field(
        nurse.WHISPER,
        min_length=10,
        max_length=300,
        description="What the nurse hears on answering, before the caller is connected; it must ask for 1.",
    )
    followup_sms: bool = Field(
        False,
        description=(
            "Offer callers, at an outcome that is not 'call 911 now', the advice by text; sent only to"
            " one who presses 1 then."
        ),
    )
    twilio_account_sid: str | None = Field(
        None, description="Account SID: follow-up texts, `ivr twilio setup` and `ivr doctor`."
    )
    twilio_api_key: str | None = Field(
        None, description="API key SID (SK...), instead of the Auth Token, for `ivr twilio setup`/`doctor`."
    )
    twilio_api_secret: SecretStr | None = Field(None, description="The API key's secret.")
    twilio_api_base_url: str | None = Field(None, description="Twilio REST API base URL (tests, staging).")
    twilio_messaging_service_sid: str | None = Field(
        None,
        description="Messaging Service (MG...) for follow-up texts; unset: sent from the number called.",
    )
    twilio_webhook_shared_keys: SecretStr | None = Field(
        None,
        description=(
            "SharedKey id=secret pairs (comma separated; two during a rotation) for webhooks that a"
            " Twilio Webhook Rule signs with a shared key (X-Twilio-Webhooks-Signature-Settings);"
            " the Auth Token still checks the others."
        ),
    )
    webhook_connection_overrides: str | None = Field(
        None,
        description=(
            "The connection overrides appended to the webhook URLs in the Twilio Console, without the"
            " '#', e.g. ct=1000&rt=4000; the signature check accepts the URL with them too."
        ),
    )
    audit_retention_days: int = Field(90, ge=1, le=3650, description="Days outcome records are kept.")
    consent_retention_days: int = Field(
        400,
        ge=1,
        le=3650,
        description="Days a record of a caller asking for a follow-up text is kept (keyed hash, no number).",
    )

    def shared_keys(self) -> dict[str, str]:
        """TWILIO_WEBHOOK_SHARED_KEYS as SharedKey id -> secret (checked at start)."""
        raw = self.twilio_webhook_shared_keys.get_secret_value() if self.twilio_webhook_shared_keys else ""
        pairs = (item.split("=", 1) for item in raw.split(",") if item.strip())
        return {kid.strip(): secret.strip() for kid, secret in pairs}

    @field_validator("twilio_webhook_shared_keys", mode="before")
    @classmethod
    def _shared_keys(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str):
            raise ValueError("expected SharedKey id=secret pairs separated by commas")
        for item in (i for i in raw.split(",") if i.strip()):
            kid, separator, secret = item.partition("=")
            # A message names the pair by its place only: the secret must never reach a log.
            if not separator or not kid.strip() or _PLACEHOLDER.match(secret.strip()):
                raise ValueError(
                    "expected SharedKey id=secret pairs separated by commas (the id Twilio names in"
                    " X-Twilio-Webhooks-Signature-Settings, the secret returned when the key was made)"
                )
        return raw

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

    @model_validator(mode="after")
    def _voices(self) -> Self:
        problems = [
            f"VOICE_LOCALES names {lang!r}, which has no voice in VOICE_NAMES"
            for lang in sorted(set(self.voice_locales) - set(self.voice_names))
        ]
        for lang, voice in sorted(self.voice_names.items()):
            try:
                polly.check(lang, voice, self.voice_locales.get(lang), self.recognition_locales.get(lang))
            except polly.VoiceError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def say_locales(self) -> dict[str, str]:
        """<Say language> per flow language: each voice's own locale (checked at start)."""
        return {lang: polly.locale_of(voice) for lang, voice in self.voice_names.items()}

    @field_validator("speech_models")
    @classmethod
    def _speech_models(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, model in value.items():
            if model not in SPEECH_MODELS:
                raise ValueError(
                    f"{lang}={model} is not a speech model Twilio documents for <Gather>: one of"
                    f" {', '.join(sorted(SPEECH_MODELS))}, or leave the language out for Twilio's pick"
                )
        return value

    @field_validator("voice_locales", "voice_names", "recognition_locales", "speech_models", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("expected lang=value pairs separated by commas")
            return {k.strip(): v.strip() for k, v in pairs}
        return value

    @field_validator("webhook_connection_overrides")
    @classmethod
    def _overrides(cls, value: str | None) -> str | None:
        if value is None or value.strip("#") == "":
            return None
        value = value.strip().lstrip("#")
        for pair in value.split("&"):
            name, _, setting = pair.partition("=")
            if name not in CONNECTION_OVERRIDES or not setting:
                raise ValueError(
                    f"{pair!r} is not one of Twilio's overrides ({', '.join(CONNECTION_OVERRIDES)})"
                )
            bounds = CONNECTION_OVERRIDES[name]
            if bounds and not (setting.isdigit() and bounds[0] <= int(setting) <= bounds[1]):
                raise ValueError(f"{name} must be a whole number from {bounds[0]} to {bounds[1]}")
            if name == "rp" and not set(setting.split(",")) <= RETRY_POLICIES:
                raise ValueError(
                    f"rp={setting} is not a retry policy Twilio knows: one or more of"
                    f" {', '.join(sorted(RETRY_POLICIES))}, comma separated (Twilio refuses others"
                    " with error 11243, 'HTTP retry policy is invalid')"
                )
        return value

    def override(self, name: str) -> int | None:
        """One numeric connection override (ct, rt, tt, rc), when set."""
        for pair in (self.webhook_connection_overrides or "").split("&"):
            key, _, setting = pair.partition("=")
            if key == name and setting.isdigit():
                return int(setting)
        return None

    @model_validator(mode="after")
    def _within_read_timeout(self) -> Self:
        limits = [v / 1000 for v in (self.override("rt"), self.override("tt")) if v is not None]
        if limits and self.hard_limit + NETWORK_MARGIN_SECONDS > min(limits):
            raise ValueError(
                f"WEBHOOK_BUDGET + 3 x REDIS_TIMEOUT ({self.hard_limit:g} s) plus a second must stay"
                f" under the rt/tt of WEBHOOK_CONNECTION_OVERRIDES ({min(limits):g} s): Twilio would"
                " give up before even the safety net is sent"
            )
        return self

    @field_validator("twilio_messaging_service_sid")
    @classmethod
    def _messaging_service(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"MG[0-9a-f]{32}", value):
            raise ValueError("must be a Messaging Service SID: MG followed by 32 hex digits")
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

    @field_validator("twilio_numbers", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(n.strip() for n in value.split(",") if n.strip())
        if isinstance(value, list | tuple):
            bad = [n for n in value if not re.fullmatch(r"\+[1-9]\d{6,14}", str(n))]
            if bad:
                raise ValueError("must be E.164 numbers separated by commas, e.g. +15551234567,+15557654321")
            return tuple(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("emergency_number", "crisis_number")
    @classmethod
    def _emergency_number(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2,6}", value):
            raise ValueError("must be 2 to 6 digits, e.g. 911 or 988")
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

    @field_validator("twilio_auth_token", "ivr_hash_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `TWILIO_AUTH_TOKEN=` in a .env copied from the example means "not set", not a secret.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("ivr_insecure_dev")
    @classmethod
    def _retired(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError(
                "is retired: remove it. With neither TWILIO_AUTH_TOKEN nor IVR_HASH_KEY set, the"
                " service runs in local mode (127.0.0.1 only, secrets made for the process)"
            )

    @property
    def mode(self) -> Mode:
        """The one place that tells production from local mode.

        Local mode is what a fresh clone gets with nothing configured: neither secret set. Then
        the server listens on 127.0.0.1 only, keeps conversations in the process (the embedded
        store, whatever REDIS_URL says), makes its secrets for this process alone (webhooks are
        still signed and checked with them) and serves the simulator page. Production is
        everything else, and needs both secrets, real ones.
        """
        if self.twilio_auth_token is None and self.ivr_hash_key is None:
            return "local"
        return "production"

    @property
    def log_style(self) -> Literal["json", "text"]:
        """LOG_FORMAT when given; else JSON for log shippers, or text for the person at the
        terminal in local mode."""
        if self.mode == "local" and "log_format" not in self.model_fields_set:
            return "text"
        return self.log_format

    @model_validator(mode="after")
    def _secrets(self) -> Self:
        if self.mode == "local":
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
                "; ".join(problems)
                + " (with neither of the two set, the service starts in local mode, on this computer only)"
            )
        return self


def listen_host(settings: Settings, requested: str | None) -> str:
    """Where `ivr serve` listens: all interfaces in production unless told otherwise; in local
    mode the loopback interface only, and a request for any other is refused."""
    if settings.mode == "production":
        return requested or PRODUCTION_HOST
    if requested is None:
        return LOOPBACK_HOST
    if not is_loopback(requested):
        raise ConfigError(
            f"refusing to listen on {requested} in local mode, which has no real secrets and is for"
            f" this computer only: to serve Twilio, {SET_THE_SECRETS}; to try the line here, leave"
            " out --host (it listens on 127.0.0.1)"
        )
    return requested


def is_loopback(host: str) -> bool:
    """A name or address that only this computer can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may resolve to an interface others can reach


class SettingsForTools(Settings):
    """Settings as operator tools read them: the secrets and retired settings are left for the tool
    to report on (`ivr doctor`) or are not needed (`ivr twilio setup` needs the account's
    credentials, not the hash key); everything else is checked as for the app."""

    @model_validator(mode="after")
    def _secrets(self) -> Self:
        return self

    @field_validator("ivr_insecure_dev")
    @classmethod
    def _retired(cls, value: str | None) -> str | None:  # type: ignore[override]
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with a readable error instead of a traceback."""
    return _load(Settings, overrides)


def load_tool_settings(**overrides: object) -> Settings:
    """Settings for operator tools: see SettingsForTools."""
    return _load(SettingsForTools, overrides)


def _load(kind: type[Settings], overrides: dict[str, object]) -> Settings:
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            lines.append(f"  {where}: {error['msg'].removeprefix('Value error, ')}")
        if len(lines) == 1:  # one problem, one line
            raise ConfigError("invalid configuration: " + lines[0].strip()) from None
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
