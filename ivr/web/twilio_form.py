"""Reading a Twilio webhook: size and type limits, form parsing, and the signature check."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request

from ivr.channels.signatures import SETTINGS_HEADER, SIGNATURE_HEADER, SignatureChecker

MAX_BODY_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
# Why a signature was refused, as the 403 says it (nothing personal: the reason only).
REFUSALS = {
    "invalid": "invalid Twilio signature",
    "unknown key": "signed with a shared key that TWILIO_WEBHOOK_SHARED_KEYS does not hold",
    "no shared keys": "signed with a shared key, and TWILIO_WEBHOOK_SHARED_KEYS is not set",
    "unsupported algorithm": "signed with an algorithm the twilio library does not support",
}


@dataclass(frozen=True, slots=True)
class TwilioForm:
    """The verified parameters of one webhook."""

    params: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str = "") -> str:
        """A field's value, or `default` when Twilio did not send it."""
        for key, value in self.params:
            if key == name:
                return value
        return default


async def read_form(request: Request, checker: SignatureChecker) -> TwilioForm:
    """The form body of a request that Twilio signed, or the HTTP error that refuses it.

    Nothing here touches conversation state, so a refused request changes nothing.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise HTTPException(415, "expected application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise HTTPException(413, "body too large")
    body = bytearray()
    while True:  # the ASGI messages themselves: the lightest way to read a small body
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise HTTPException(400, "the client went away")
        body.extend(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "body too large")
        if not message.get("more_body", False):
            break
    try:
        params = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "malformed form body") from None
    scope = request.scope
    url = checker.signed_url(scope["path"], scope["query_string"].decode("latin-1"), lambda: str(request.url))
    headers = request.headers
    verdict = checker.verdict(url, params, headers.get(SIGNATURE_HEADER), headers.get(SETTINGS_HEADER))
    if verdict != "valid":
        raise HTTPException(403, REFUSALS[verdict])
    return TwilioForm(tuple(params))
