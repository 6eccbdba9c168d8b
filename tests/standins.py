"""Local stand-ins for outside services: a small HTTP server that plays Twilio's REST API."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class ApiRequest:
    method: str
    path: str
    account: str
    form: dict[str, str]
    received: float


@dataclass
class TwilioApiStandIn:
    """Answers POST .../Messages.json like Twilio (201 and a message resource), or with `status`;
    records every request. `delay` makes each answer slow, to show nothing waits on it."""

    status: int = 201
    delay: float = 0.0
    requests: list[ApiRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                auth = self.headers.get("authorization", "")
                account = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
                standin.requests.append(ApiRequest("POST", self.path, account, form, time.monotonic()))
                time.sleep(standin.delay)
                body = json.dumps({"sid": "SM" + "f" * 32, "status": "queued", "to": "", "body": ""})
                self.send_response(standin.status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                return  # keep test output (and any number in a path) out of stderr

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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
