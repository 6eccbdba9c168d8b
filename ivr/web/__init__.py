"""The HTTP layer: Twilio webhooks and probes, thin routes over the service layer (built by
ivr.web.app.create_app)."""
