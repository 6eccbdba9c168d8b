"""The safety net as static TwiML, for TwiML Bins that Twilio serves itself when the app is down."""

from __future__ import annotations

from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.core.flow import Flow


def static_safety_nets(flow: Flow) -> dict[str, str]:
    """The safety net as TwiML files that work with the app down: paste them into TwiML Bins."""
    return {
        "sms.xml": sms.safety_net(flow),
        "voice.xml": voice.safety_net(flow, style=VoiceStyle()),
    }
