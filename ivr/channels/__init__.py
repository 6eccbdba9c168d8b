"""Renderers that turn the engine's channel-neutral output into TwiML for one channel each."""
