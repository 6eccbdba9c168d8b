"""The Twilio adapter: TwiML renderers for texts and calls, speech settings and voices, and the
X-Twilio-Signature check."""
