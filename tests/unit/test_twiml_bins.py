"""The static safety-net TwiML in deploy/twiml-bins matches the flow, for use when the app is down."""

from __future__ import annotations

from ivr.channels.bins import static_safety_nets
from ivr.cli import TWIML_BINS
from tests.support import shipped_flow


def test_the_committed_twiml_bins_are_current() -> None:
    """deploy/twiml-bins/*.xml equal what the shipped flow renders; `ivr flows twiml-bins` rewrites them."""
    for name, xml in static_safety_nets(shipped_flow()).items():
        assert (TWIML_BINS / name).read_text(encoding="utf-8") == xml + "\n", (
            f"run `ivr flows twiml-bins` ({name})"
        )


def test_they_lead_with_calling_911_in_both_languages() -> None:
    """Both files start by telling people with a red flag to call 911 now, in English then Spanish."""
    nets = static_safety_nets(shipped_flow())
    assert "<Message>Call 911 now for any of these" in nets["sms.xml"]
    assert "<Message>Llame al 911 ahora si" in nets["sms.xml"]
    assert nets["voice.xml"].endswith("<Hangup /></Response>")
