"""Local mode's own parts: secrets made for this one process, Twilio's side signing with them, the banner."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from ivr.config import SET_THE_SECRETS, Settings
from ivr.simulator.twilio_sim import TwilioSimulator, in_process
from ivr.web.turn_notes import TurnNotes

# The address Twilio's side uses inside the process; nothing resolves it (".invalid" never does).
IN_PROCESS_BASE_URL = "http://in-process.invalid"


@dataclass(frozen=True, slots=True)
class LocalMode:
    """What only local mode has. Its Auth Token signs and checks webhooks inside this process and
    nowhere else, so the webhooks keep their signature check while no real Twilio request can pass
    it; its hash key makes pseudonyms that last as long as the process."""

    auth_token: str
    hash_key: str
    signed_base_url: str  # the URL webhooks are signed for: PUBLIC_BASE_URL when set, as the app checks
    notes: TurnNotes = field(default_factory=TurnNotes)  # how the line took each reply, for the page

    @classmethod
    def for_this_process(cls, settings: Settings) -> LocalMode:
        """Local mode's parts, with secrets made now for this process alone."""
        return cls(
            auth_token=secrets.token_hex(16),
            hash_key=secrets.token_hex(32),
            signed_base_url=settings.public_base_url or IN_PROCESS_BASE_URL,
        )

    @asynccontextmanager
    async def twilio(self, app: FastAPI) -> AsyncIterator[TwilioSimulator]:
        """Twilio's side of the line, posting signed webhooks into `app` in this process, through
        the whole app (its admission gate and signature check included), as `ivr chat` does."""
        async with in_process(
            app, self.auth_token, self.signed_base_url, base_url=IN_PROCESS_BASE_URL
        ) as twilio:
            yield twilio


def local_mode_of(app: FastAPI) -> LocalMode | None:
    """The app's local mode, or None in production."""
    found: LocalMode | None = getattr(app.state, "local_mode", None)
    return found


def banner(page_url: str, settings: Settings) -> str:
    """What `ivr serve` says once at start in local mode: what that means, and where the page is."""
    lines = [
        "LOCAL MODE: neither TWILIO_AUTH_TOKEN nor IVR_HASH_KEY is set, so the line runs for this"
        " computer only.",
        f"  Open {page_url} to text or call the line from your browser.",
        "  - It listens on the loopback interface only, and sends nothing to Twilio.",
        "  - Conversations are kept in this process (the embedded store) and lost when it stops.",
        "  - Its secrets were made for this process alone: webhooks must still be signed with them,",
        "    so an unsigned or forged request gets 403, and so would any real Twilio request.",
    ]
    if settings.redis_url:
        lines.append("  - REDIS_URL is set but not used: local mode keeps everything in the process.")
    if settings.followup_sms:
        lines.append("  - FOLLOWUP_SMS is set but not used: local mode sends no texts.")
    lines.append(f"  To serve Twilio instead, {SET_THE_SECRETS}.")
    return "\n".join(lines)
