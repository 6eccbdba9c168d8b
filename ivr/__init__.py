"""A triage line for muscle weakness: Twilio SMS and voice webhooks over a red-flag flow."""

__version__ = "0.1.0"
