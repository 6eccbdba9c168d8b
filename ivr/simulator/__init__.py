"""A stand-in for Twilio: signed webhooks posted to the line, and its TwiML followed as a phone would."""
