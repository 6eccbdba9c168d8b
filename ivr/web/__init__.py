"""The HTTP layer: Twilio webhooks and probes, thin routes over the service layer."""

from ivr.web.app import create_app

__all__ = ["create_app"]
