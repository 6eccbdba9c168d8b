"""A stand-in for Twilio: signs webhooks like Twilio, posts them, and follows the TwiML it gets back.

Used by `ivr chat` and `ivr call`, by the end-to-end tests, and by the benchmark.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from starlette.types import ASGIApp

from ivr.channels.signatures import SIGNATURE_HEADER, SignatureChecker

FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}


def parse_twiml(xml: str) -> ET.Element:
    # The XML comes from our own app under test, not from an untrusted party.
    """Parse TwiML from our own app (never untrusted input)."""
    return ET.fromstring(xml)  # noqa: S314


def said(say: ET.Element) -> str:
    """The words of a <Say>: it may hold SSML (<say-as> around a number), so all its text."""
    return "".join(say.itertext())


def new_sid(prefix: str) -> str:
    """A random SID with Twilio's prefix, e.g. SM or CA."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Spoken:
    """One voice response, as a caller experiences it."""

    says: tuple[str, ...]
    gather_action: str | None
    redirect: str | None
    hangup: bool
    xml: str

    @classmethod
    def parse(cls, xml: str) -> Spoken:
        """A voice response as a caller hears it."""
        root = parse_twiml(xml)
        gather = root.find("Gather")
        redirect = root.find("Redirect")
        return cls(
            says=tuple(said(say) for say in root.iter("Say")),
            gather_action=gather.get("action") if gather is not None else None,
            redirect=redirect.text if redirect is not None else None,
            hangup=root.find("Hangup") is not None,
            xml=xml,
        )

    @property
    def text(self) -> str:
        """Everything said, as one string."""
        return " ".join(self.says)


def messages_of(xml: str) -> list[str]:
    """The bodies of the <Message>s in SMS TwiML."""
    return [m.text or "" for m in parse_twiml(xml).iter("Message")]


class TwilioSimulator:
    """Posts signed webhooks to an app, as Twilio would after someone texts or calls."""

    def __init__(self, client: httpx.AsyncClient, auth_token: str, public_base_url: str) -> None:
        self.client = client
        self.public_base_url = public_base_url.rstrip("/")
        self.signer = SignatureChecker(auth_token, None)

    def absolute(self, url: str) -> str:
        """The URL as Twilio would call it: absolute, on the public base."""
        return url if url.startswith("http") else self.public_base_url + url

    async def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        """A signed form post; `url` may be a path or an absolute public URL."""
        absolute = self.absolute(url)
        headers = {**FORM_HEADERS, SIGNATURE_HEADER: self.signer.sign(absolute, list(params.items()))}
        path = absolute.removeprefix(self.public_base_url)
        return await self.client.post(path, content=urlencode(params), headers=headers)

    async def text(
        self, body: str, *, sender: str, to: str, message_sid: str | None = None, opt_out_type: str = ""
    ) -> list[str]:
        """An incoming SMS; returns the bodies of the messages sent back. `opt_out_type` is what
        Twilio adds when Advanced Opt-Out matched the text to a keyword: STOP, START or HELP."""
        params = {
            "MessageSid": message_sid or new_sid("SM"),
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        response = await self.post("/sms", params)
        response.raise_for_status()
        return messages_of(response.text)

    def call(self, *, caller: str, to: str, call_sid: str | None = None) -> Call:
        """A new call from `caller` to `to`."""
        return Call(self, call_sid or new_sid("CA"), caller, to)


@dataclass
class Call:
    """One phone call: keeps the last response, to press keys into its gather or fall silent."""

    twilio: TwilioSimulator
    sid: str
    caller: str
    to: str
    last: Spoken | None = field(default=None)

    def _params(self, status: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": self.to,
            "CallStatus": status,
            "Direction": "inbound",
        }

    async def _follow(self, url: str, params: dict[str, str]) -> Spoken:
        response = await self.twilio.post(url, params)
        response.raise_for_status()
        self.last = Spoken.parse(response.text)
        return self.last

    async def start(self) -> Spoken:
        """The call comes in: Twilio posts to /voice."""
        return await self._follow("/voice", self._params("ringing"))

    async def press(self, keys: str, *, prompt: Spoken | None = None) -> Spoken:
        """Keys pressed during a gather (the current one unless `prompt` names an earlier one)."""
        prompt = prompt or self.last
        if prompt is None or prompt.gather_action is None:
            raise RuntimeError("nothing is waiting for keys")
        return await self._follow(prompt.gather_action, {**self._params("in-progress"), "Digits": keys})

    async def say(self, words: str, confidence: float | None = 0.9) -> Spoken:
        """Words spoken during the current gather, as Twilio's speech recognition reports them."""
        if self.last is None or self.last.gather_action is None:
            raise RuntimeError("nothing is listening")
        params = {**self._params("in-progress"), "SpeechResult": words}
        if confidence is not None:
            params["Confidence"] = f"{confidence:.8f}"
        return await self._follow(self.last.gather_action, params)

    async def silence(self) -> Spoken:
        """The gather times out and Twilio follows the <Redirect> after it."""
        if self.last is None or self.last.redirect is None:
            raise RuntimeError("nothing is waiting for an answer")
        return await self._follow(self.last.redirect, self._params("in-progress"))

    async def nurse_answers(
        self, *, answered_by: str = "human", press: str | None = "1", nurse: str = "+15550123999"
    ) -> tuple[bool, Spoken]:
        """Twilio dials the <Number> of the last <Dial> and someone (or something) answers: it runs the
        <Number url> TwiML on that leg (with AnsweredBy if machineDetection were set), presses `press`
        into its gather (None: nothing), and connects the two unless that leg hangs up. Then, when the
        leg ends, it posts the <Dial> action with DialCallStatus=completed, as it does for any leg
        that answered, a voicemail's included. Returns whether the caller was connected, and what the
        caller hears next."""
        if self.last is None:
            raise RuntimeError("nothing was dialled")
        root = parse_twiml(self.last.xml)
        dial, number = root.find("Dial"), root.find("Dial/Number")
        if dial is None or number is None:
            raise RuntimeError("the last response has no <Dial><Number>")
        leg = {"CallSid": new_sid("CA"), "ParentCallSid": self.sid, "AccountSid": "AC" + "0" * 32}
        leg |= {"From": self.to, "To": nurse, "CallStatus": "in-progress", "Direction": "outbound-dial"}
        if number.get("machineDetection"):
            leg["AnsweredBy"] = answered_by
        connected = True
        if url := number.get("url"):
            response = await self.twilio.post(url, leg)
            response.raise_for_status()
            screen = parse_twiml(response.text)
            gather = screen.find("Gather")
            if gather is not None and press is not None:
                response = await self.twilio.post(gather.get("action") or "", {**leg, "Digits": press})
                response.raise_for_status()
                screen = parse_twiml(response.text)
            elif gather is not None:
                # No key: Twilio goes on to the verbs after the gather.
                screen = ET.Element("Response")
                screen.extend(list(parse_twiml(response.text))[1:])
            connected = screen.find("Hangup") is None
        response = await self.twilio.post(
            dial.get("action") or "", {**self._params("in-progress"), "DialCallStatus": "completed"}
        )
        response.raise_for_status()
        self.last = Spoken.parse(response.text)
        return connected, self.last

    async def hang_up(self, status: str = "completed") -> httpx.Response:
        """The call ends: Twilio posts the final status."""
        response = await self.twilio.post(
            "/voice/status", {**self._params(status), "CallDuration": "30", "SequenceNumber": "1"}
        )
        response.raise_for_status()
        return response


@asynccontextmanager
async def in_process(
    app: ASGIApp, auth_token: str, public_base_url: str, *, base_url: str = "http://app.internal:8000"
) -> AsyncIterator[TwilioSimulator]:
    """Twilio's side posting signed webhooks into `app` in this process, through the whole app
    (no network): what `ivr chat`, `ivr call`, the simulator page and the tests use. `base_url` is
    the address the app sees itself called at (behind a proxy, not the public one)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield TwilioSimulator(client, auth_token, public_base_url)
