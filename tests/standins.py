"""Local stand-ins for outside services: a small HTTP server that plays Twilio's REST API.

It answers the requests this project makes, in the shapes Twilio documents:
- POST /2010-04-01/Accounts/{AC}/Messages.json (the follow-up texts);
- GET .../IncomingPhoneNumbers.json?PhoneNumber=... and POST .../IncomingPhoneNumbers/{PN}.json
  (https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource);
- GET and POST /v1/Services/{MG}, GET /v1/Services/{MG}/PhoneNumbers (Messaging Services, on
  messaging.twilio.com: https://www.twilio.com/docs/messaging/api/service-resource).
Errors come back as Twilio's JSON error body (status, code, message, more_info).

It is stricter than Twilio in one way: an update naming a field the resource does not have is
refused with 400, so that a misspelled parameter fails a test instead of being ignored.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ACCOUNT = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "a-stand-in-auth-token-0123456789"

_NUMBERS = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers\.json")
_NUMBER = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers/(PN\w+)\.json")
_MESSAGES = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Messages\.json")
_SERVICE = re.compile(r"/v1/Services/(MG\w+)")
_SERVICE_NUMBERS = re.compile(r"/v1/Services/(MG\w+)/PhoneNumbers")


@dataclass
class ApiRequest:
    method: str
    path: str
    account: str
    form: dict[str, str]
    received: float


@dataclass
class ApiError:
    status: int
    code: int
    message: str


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def new_number(phone_number: str, *, account: str = ACCOUNT, **fields: Any) -> dict[str, Any]:
    """An IncomingPhoneNumber resource as Twilio returns it, nothing configured unless given."""
    sid = "PN" + secrets.token_hex(16)
    resource: dict[str, Any] = {
        "sid": sid,
        "account_sid": account,
        "phone_number": phone_number,
        "friendly_name": phone_number,
        "sms_url": "",
        "sms_method": "POST",
        "sms_fallback_url": "",
        "sms_fallback_method": "POST",
        "sms_application_sid": "",
        "voice_url": "",
        "voice_method": "POST",
        "voice_fallback_url": "",
        "voice_fallback_method": "POST",
        "voice_application_sid": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "capabilities": {"sms": True, "voice": True, "mms": True, "fax": False},
        "uri": f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
    }
    resource.update(fields)
    return resource


def new_service(friendly_name: str, *, account: str = ACCOUNT, **fields: Any) -> dict[str, Any]:
    """A Messaging Service resource as Twilio returns it."""
    sid = "MG" + secrets.token_hex(16)
    resource: dict[str, Any] = {
        "sid": sid,
        "account_sid": account,
        "friendly_name": friendly_name,
        "inbound_request_url": None,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "use_inbound_webhook_on_number": False,
        "sticky_sender": True,
        "url": f"https://messaging.twilio.com/v1/Services/{sid}",
        "links": {},
    }
    resource.update(fields)
    return resource


@dataclass
class TwilioApiStandIn:
    """Answers like Twilio's REST API for one account and records every request. `status` and
    `delay` shape the answers to Messages.json (201 by default); `errors` makes any request whose
    "METHOD path" starts with a key fail with that error; `credentials` (username -> password),
    when set, answers 401 to anyone else."""

    status: int = 201
    delay: float = 0.0
    requests: list[ApiRequest] = field(default_factory=list)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_numbers: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, ApiError] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def log_message(self, format: str, *args: object) -> None:
                return  # keep test output (and any number in a path) out of stderr

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    # ---- the account's resources ----------------------------------------------------------------

    def add_number(self, phone_number: str, **fields: Any) -> dict[str, Any]:
        resource = new_number(phone_number, **fields)
        self.numbers[resource["sid"]] = resource
        return resource

    def add_service(
        self, friendly_name: str, *, numbers: Sequence[str] = (), **fields: Any
    ) -> dict[str, Any]:
        resource = new_service(friendly_name, **fields)
        self.services[resource["sid"]] = resource
        self.service_numbers[resource["sid"]] = list(numbers)
        return resource

    def writes(self) -> list[ApiRequest]:
        """The requests that could change something (every POST)."""
        return [r for r in self.requests if r.method == "POST"]

    # ---- HTTP ------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("content-length") or 0)
        form = dict(parse_qsl(handler.rfile.read(length).decode(), keep_blank_values=True))
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        username, password = _basic_auth(handler.headers.get("authorization", ""))
        self.requests.append(ApiRequest(method, url.path, username, form, time.monotonic()))
        status, body = self._answer(method, url.path, query, form, username, password)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], user: str, password: str
    ) -> tuple[int, dict[str, Any]]:
        for prefix, error in self.errors.items():
            if f"{method} {path}".startswith(prefix):
                return _error(error)
        if self.credentials and self.credentials.get(user) != password:
            return _error(ApiError(401, 20003, "Authenticate"))
        if match := _MESSAGES.fullmatch(path):
            time.sleep(self.delay)
            return self.status, {"sid": "SM" + "f" * 32, "status": "queued", "to": "", "body": ""}
        if (match := _NUMBERS.fullmatch(path)) and method == "GET":
            wanted = query.get("PhoneNumber", "")
            found = [
                n
                for n in self.numbers.values()
                if n["account_sid"] == match.group(1) and wanted in n["phone_number"]  # partial, as Twilio
            ]
            return 200, {
                "incoming_phone_numbers": found,
                "end": max(0, len(found) - 1),
                "first_page_uri": path,
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": path,
            }
        if (match := _NUMBER.fullmatch(path)) and method == "POST":
            number = self.numbers.get(match.group(2))
            if number is None or number["account_sid"] != match.group(1):
                return _error(ApiError(404, 20404, f"The requested resource {path} was not found"))
            return _update(number, form)
        if (match := _SERVICE_NUMBERS.fullmatch(path)) and method == "GET":
            if match.group(1) not in self.services:
                return _error(ApiError(404, 20404, f"The requested resource {path} was not found"))
            in_service = [
                {"sid": sid, "phone_number": self.numbers[sid]["phone_number"], "service_sid": match.group(1)}
                for sid in self.service_numbers.get(match.group(1), [])
            ]
            meta = {"page": 0, "page_size": 50, "key": "phone_numbers", "next_page_url": None}
            return 200, {"phone_numbers": in_service, "meta": meta}
        if path == "/v1/Services" and method == "GET":
            meta = {"page": 0, "page_size": 50, "key": "services", "next_page_url": None}
            return 200, {"services": list(self.services.values()), "meta": meta}
        if match := _SERVICE.fullmatch(path):
            service = self.services.get(match.group(1))
            if service is None:
                return _error(ApiError(404, 20404, f"The requested resource {path} was not found"))
            return (200, service) if method == "GET" else _update(service, form)
        return _error(ApiError(404, 20404, f"The requested resource {path} was not found"))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, within: float = 10) -> list[ApiRequest]:
        deadline = time.monotonic() + within
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


def _basic_auth(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    return user, password


def _update(resource: dict[str, Any], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    changes: dict[str, Any] = {}
    for name, value in form.items():
        key = _snake(name)
        if key not in resource:
            return _error(ApiError(400, 20001, f"Unknown parameter {name}"))
        changes[key] = (
            {"true": True, "false": False}.get(value, value) if isinstance(resource[key], bool) else value
        )
    resource.update(changes)
    return 200, resource


def _error(error: ApiError) -> tuple[int, dict[str, Any]]:
    return error.status, {
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
    }
