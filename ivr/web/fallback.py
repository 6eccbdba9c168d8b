"""The Fallback URLs: the static safety net, for anyone, with no signature check and nothing read.

This is the one justified exception to "every webhook checks X-Twilio-Signature". Twilio requests a
Fallback URL when the primary webhook failed, and the usual reason it failed is a URL, proxy or
TLS mismatch that would fail the fallback's signature check just the same: a checked fallback would
answer 403 exactly when it is needed. So these routes read nothing from the request (not its body,
not its query, not its headers) and store nothing; all they can give anyone is the same public
advice the TwiML Bins in deploy/ hold: the red flags and "call 911 now". The only trace is a count in
the process's metrics, under fixed labels.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ivr.web.components import Components
from ivr.web.webhook import twiml

router = APIRouter()


def _components(request: Request) -> Components:
    components: Components = request.app.state.components
    return components


async def text_fallback(request: Request) -> Response:
    """Twilio's Fallback URL for messaging: the safety net in every language."""
    c = _components(request)
    c.metrics.safety_nets.labels("sms_fallback", "fallback").inc()
    return twiml(c.sms_safety_net)


async def call_fallback(request: Request) -> Response:
    """Twilio's Fallback URL for voice: the spoken safety net in every language, then hang up."""
    c = _components(request)
    c.metrics.safety_nets.labels("voice_fallback", "fallback").inc()
    return twiml(c.voice_safety_net)


# GET too: a Fallback URL can be set to either method in the Console, and neither reads anything.
router.add_route("/sms/fallback", text_fallback, methods=["GET", "POST"], include_in_schema=False)
router.add_route("/voice/fallback", call_fallback, methods=["GET", "POST"], include_in_schema=False)
