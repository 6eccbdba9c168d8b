"""The twilio library's REST client for operator commands: credentials from the settings, typed reads
and writes of the two resources they touch (a phone number, a Messaging Service)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.config import ConfigError, Settings

ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
API_KEY_SID = re.compile(r"SK[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
E164 = re.compile(r"\+[1-9]\d{6,14}")

# The fields this project reads and writes, as the REST API names them
# (https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource and
# https://www.twilio.com/docs/messaging/api/service-resource).
NUMBER_FIELDS = (
    "sms_url",
    "sms_method",
    "sms_fallback_url",
    "sms_fallback_method",
    "sms_application_sid",
    "voice_url",
    "voice_method",
    "voice_fallback_url",
    "voice_fallback_method",
    "voice_application_sid",
    "status_callback",
    "status_callback_method",
    "trunk_sid",
)
SERVICE_FIELDS = (
    "inbound_request_url",
    "inbound_method",
    "fallback_url",
    "fallback_method",
    "use_inbound_webhook_on_number",
)


class CredentialsMissing(ConfigError):
    """The settings do not say how to reach the account."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A phone number or a Messaging Service: its SID, a name to show, and the fields we manage,
    each as text ("" for none; booleans as true/false, as the API takes them)."""

    sid: str
    name: str
    fields: dict[str, str]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def credentials(settings: Settings) -> tuple[str, str, str]:
    """(username, password, account SID): an API key and secret if set, else the Auth Token."""
    account = settings.twilio_account_sid or ""
    if not ACCOUNT_SID.fullmatch(account):
        raise CredentialsMissing(
            "set TWILIO_ACCOUNT_SID to the Account SID (AC followed by 32 hex digits, from the Twilio"
            " Console's account dashboard)"
        )
    if settings.twilio_api_key or settings.twilio_api_secret:
        secret = settings.twilio_api_secret.get_secret_value() if settings.twilio_api_secret else ""
        if not API_KEY_SID.fullmatch(settings.twilio_api_key or "") or not secret:
            raise CredentialsMissing(
                "TWILIO_API_KEY must be an API key SID (SK followed by 32 hex digits) and"
                " TWILIO_API_SECRET its secret; or unset both to use TWILIO_AUTH_TOKEN"
            )
        return settings.twilio_api_key or "", secret, account
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        raise CredentialsMissing(
            "set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) to reach the Twilio account"
        )
    return account, token, account


def describe(exc: TwilioException) -> str:
    """What Twilio's API said, for an operator: status, Twilio error code and message. Reading a
    list raises a plain TwilioException carrying the response; the rest a TwilioRestException."""
    if isinstance(exc, TwilioRestException):
        return f"HTTP {exc.status}, error {exc.code}: {exc.msg}"
    response = next((a for a in exc.args if isinstance(a, Response)), None)
    if response is None:
        return str(exc)
    try:
        body = json.loads(response.text)
    except ValueError:
        body = {}
    message = body.get("message", response.text[:200])
    return f"HTTP {response.status_code}, error {body.get('code', '?')}: {message}"


class TwilioAccount:
    """One account through the twilio library's REST client (synchronous: these are one-off
    operator commands). `api_base_url` points it at a stand-in for Twilio's API."""

    def __init__(
        self,
        username: str,
        password: str,
        account_sid: str,
        *,
        api_base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.account_sid = account_sid
        self.client = Client(
            username, password, account_sid=account_sid, http_client=TwilioHttpClient(timeout=timeout)
        )
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")
            self.client.messaging.base_url = api_base_url.rstrip("/")

    def close(self) -> None:
        """Close the REST client's connections to Twilio."""
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()

    def number(self, phone_number: str) -> Resource | None:
        """The account's number, or None when the account does not own it. The API's filter also
        matches partial numbers, so the match is checked here."""
        for found in self.client.incoming_phone_numbers.list(phone_number=phone_number, limit=20):
            if found.phone_number == phone_number:
                return Resource(
                    found.sid, found.phone_number, {f: _text(getattr(found, f, None)) for f in NUMBER_FIELDS}
                )
        return None

    def update_number(self, sid: str, changes: dict[str, str]) -> None:
        """Change the number's settings."""
        self.client.incoming_phone_numbers(sid).update(**changes)

    def service(self, sid: str) -> Resource:
        """A Messaging Service's settings."""
        found: Any = self.client.messaging.v1.services(sid).fetch()
        return Resource(
            found.sid, found.friendly_name or "", {f: _text(getattr(found, f, None)) for f in SERVICE_FIELDS}
        )

    def service_numbers(self, sid: str) -> set[str]:
        """The SIDs of the phone numbers in a Messaging Service's sender pool."""
        return {n.sid for n in self.client.messaging.v1.services(sid).phone_numbers.list(limit=1000)}

    def service_of(self, number_sid: str) -> str | None:
        """The Messaging Service whose sender pool holds the number (a number is in at most one)."""
        for service in self.client.messaging.v1.services.list(limit=1000):
            if number_sid in self.service_numbers(service.sid):
                return str(service.sid)
        return None

    def update_service(self, sid: str, changes: dict[str, str]) -> None:
        """Change a Messaging Service's settings."""
        values: dict[str, object] = {
            k: (v == "true") if k == "use_inbound_webhook_on_number" else v for k, v in changes.items()
        }
        self.client.messaging.v1.services(sid).update(**values)


@contextmanager
def account(settings: Settings) -> Iterator[TwilioAccount]:
    """The account the settings name, closed (its HTTP connections) when done."""
    username, password, sid = credentials(settings)
    twilio = TwilioAccount(username, password, sid, api_base_url=settings.twilio_api_base_url)
    try:
        yield twilio
    finally:
        twilio.close()
