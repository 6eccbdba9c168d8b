"""What the nurse hears when a caller is put through: a whisper, and a key to press to take the call.

A <Dial> reports `completed` whenever the nurse's phone was answered, by the nurse or by voicemail.
So the call is screened: Twilio runs the TwiML of <Number url> on the nurse's leg after it answers
and before the two are connected ("a TwiML response to be run on the called party's end, after they
answer, but before the parties are connected", Twilio's <Number> reference). A person hears the
whisper and presses 1 to take the call; no key (a voicemail cannot press one), or any other key,
hangs up that leg and the caller goes back to the questions.

There is no answering machine detection on the <Number>. Run synchronously, as a screening URL
needs, it holds the leg in silence until it decides (with Twilio's defaults, 1.2 s of silence after
a short "Hello?", and 5 s when the nurse says nothing first), and it calls any greeting longer than
2.4 s a machine ("Nurse line, this is Maria, how can I help?"), which the line then hung up on. The
screen already rejects every voicemail, as a press of 1 is needed; detection would only add delay
and a way to lose a nurse. docs/twilio.md gives the figures and their source.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ivr.channels.voice import VoiceStyle, say

WHISPER = (
    "Call from the muscle weakness advice line. A caller asks to talk with a nurse. Press 1 to take the call."
)
NOT_TAKEN = "No key was pressed. The caller goes back to the questions. Goodbye."
TAKEN = "Connecting you now."
ACCEPT_KEY = "1"
ACCEPT_TIMEOUT = 8  # seconds for the nurse to press 1 after the whisper (the caller hears ringing)


def screening(style: VoiceStyle, lang: str, *, accept_url: str, whisper: str = WHISPER) -> str:
    """The nurse's leg: the whisper in a one-key gather; silence falls through to a hang-up."""
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf", num_digits=1, action=accept_url, method="POST", timeout=ACCEPT_TIMEOUT
    )
    say(gather, whisper, style, lang)
    say(response, NOT_TAKEN, style, lang)
    response.hangup()
    return str(response.to_xml())


def taken(style: VoiceStyle, lang: str) -> str:
    """The nurse pressed 1: a word to them, then the TwiML ends and Twilio connects the two."""
    response = VoiceResponse()
    say(response, TAKEN, style, lang)
    return str(response.to_xml())


def hang_up() -> str:
    """A wrong key or a lost screening: the nurse's leg ends and is never connected."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())
