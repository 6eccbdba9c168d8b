"""The follow-up text after a call: the advice the caller heard, sent by the Twilio REST API."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)


class FollowUpSender:
    """Sends text messages with the twilio library's REST client, asynchronously.

    No retries: a failure is logged and counted, and that is the end of it, so a fault at Twilio
    can never turn into a loop of messages. `api_base_url` points the client at a stand-in for
    Twilio's API (tests, staging).
    """

    def __init__(
        self, account_sid: str, auth_token: str, *, api_base_url: str | None = None, timeout: float = 5
    ) -> None:
        # A session per request: nothing to open before the event loop runs, nothing left to close.
        http = AsyncTwilioHttpClient(pool_connections=False, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")

    async def send(self, *, to: str, from_: str, bodies: Sequence[str]) -> int:
        """Send each body as a message; returns how many were accepted. Raises on the first failure."""
        sent = 0
        for body in bodies:
            await self.client.messages.create_async(to=to, from_=from_, body=body)
            sent += 1
        return sent
