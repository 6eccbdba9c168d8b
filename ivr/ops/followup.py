"""The follow-up text after a call: the advice the caller heard, sent by the Twilio REST API."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class FollowUpSender:
    """Sends text messages with the twilio library's REST client, off the event loop.

    No retries: a failure is logged and counted by the caller, and that is the end of it, so a
    fault at Twilio can never turn into a loop of messages. `api_base_url` points the client at a
    stand-in for Twilio's API (tests, staging).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str | None = None,
        timeout: float = 5,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> None:
        # With a Messaging Service the service picks the sender and applies its opt-out list and
        # compliance settings; otherwise the text goes from the number the person called.
        self.messaging_service_sid = messaging_service_sid
        # Twilio posts the message's status there (MessageStatus, ErrorCode): a landline or an
        # unreachable phone shows up as undelivered or failed (error 30006, 30003...).
        self.status_callback = status_callback
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")

    def close(self) -> None:
        """Close the REST client's kept-alive connections to Twilio."""
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()

    async def send(self, *, to: str, from_: str, bodies: Sequence[str]) -> int:
        """Send each body as a message; returns how many were accepted. Raises on the first failure."""
        sent = 0
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": from_}
        )
        if self.status_callback:
            sender["status_callback"] = self.status_callback
        for body in bodies:
            # The synchronous client runs in a worker thread, so the event loop never waits on Twilio.
            await asyncio.to_thread(self.client.messages.create, to=to, body=body, **sender)
            sent += 1
        return sent
