"""The benchmark's load: real conversations as pre-signed HTTP requests, replayed by a lean client.

Every request is built before the clock starts (the engine, run here, predicts each reply and each
voice step token), so the client spends its time sending and reading, and can check every reply
byte for byte against what the line must answer.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ivr.channels import sms, voice
from ivr.channels.signatures import SignatureChecker
from ivr.channels.voice import VoiceStyle
from ivr.core import engine
from ivr.core.answers import ANSWER_KEYS
from ivr.core.engine import Input
from ivr.core.flow import Flow
from ivr.core.privacy import Pseudonyms
from ivr.core.session import Session

OUR_NUMBER = "+15550100000"


@dataclass(frozen=True, slots=True)
class Step:
    """One webhook: the raw request, and the exact body the line must answer with. `again` is the
    same answer sent anew after a safety net: a new text (a new MessageSid), or the same key press
    on the same prompt."""

    raw: bytes
    expect: bytes
    again: bytes = b""


# Noes as people text them, for `free_text` (each reply the line must give is worked out by the
# engine from the very text sent, whatever it makes of it).
FREE_NOES = {
    "en": ("no, just tired", "nope she didn't", "not that I've noticed", "no she's fine", "nah not really"),
    "es": ("no, nada de eso", "no, está bien", "que yo sepa no", "para nada, gracias", "no, solo cansada"),
}


@dataclass
class Generator:
    """Builds conversations the way Twilio would send them, and the replies the line must give."""

    flow: Flow
    base_url: str
    auth_token: str
    hash_key: bytes
    seed: int = 7
    unclear_rate: float = 0.1  # share of conversations with one unclear reply (a re-prompt)
    style: VoiceStyle = field(default_factory=VoiceStyle)
    # Texters answer no in their own words ("no, just tired"), which the answer model reads,
    # rather than with the flow's exact answers ("no"), which a rule takes.
    free_text: bool = False

    def __post_init__(self) -> None:
        self._sms: dict[engine.Output, bytes] = {}
        self._voice: dict[engine.Output, str] = {}
        self.signer = SignatureChecker(self.auth_token, None)
        self.pseudonyms = Pseudonyms(self.hash_key)
        self.random = random.Random(self.seed)  # noqa: S311 - picks test paths, not secrets
        host = self.base_url.split("://", 1)[1]
        self.host = host.encode()

    def _request(self, path: str, params: dict[str, str]) -> bytes:
        body = urlencode(params).encode()
        signature = self.signer.sign(self.base_url + path, list(params.items()))
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host.decode()}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def _plan(self) -> tuple[str, str | None, int | None]:
        """A language, the question answered yes (None: all no), the step with an unclear reply."""
        lang = self.random.choice(self.flow.languages)
        questions = self.flow.question_order()
        flag = self.random.choice([*questions, None, None, None])
        unclear = self.random.randrange(len(questions)) if self.random.random() < self.unclear_rate else None
        return lang, flag, unclear

    def _answer(self, session: Session, flag: str | None, unclear: int | None, turn: int) -> bool | None:
        """The answer to the question a conversation is at: yes to `flag`, else no; None (an
        unclear reply, once) at step `unclear`."""
        if turn == unclear:
            return None
        return session.node == flag

    def text(self, number: int) -> list[Step]:
        """A text conversation: its requests in order, each with the reply it must get."""
        lang, flag, unclear = self._plan()
        sender = f"+1556{number:07d}"
        words = {True: "sí" if lang == "es" else "yes", False: "no", None: "hmm"}
        noes = FREE_NOES[lang] if self.free_text else ("no",)
        opening = "hola" if lang == "es" else "hi"
        session, output = engine.start(self.flow, "sms", now=0, opening=Input("text", opening))
        steps = [self._sms_step(sender, opening, number, 0, self._sms_reply(output))]
        turn = 0
        while output.outcome is None:
            turn += 1
            answer = self._answer(session, flag, unclear, turn - 1)
            said = noes[(number + turn) % len(noes)] if answer is False else words[answer]
            session, output = engine.step(self.flow, session, Input("text", said))
            steps.append(self._sms_step(sender, said, number, turn, self._sms_reply(output)))
        return steps

    def _sms_reply(self, output: engine.Output) -> bytes:
        if output not in self._sms:
            self._sms[output] = sms.render(self.flow, output).encode()
        return self._sms[output]

    def _sms_step(self, sender: str, body: str, number: int, turn: int, expect: bytes) -> Step:
        params = {
            "MessageSid": f"SM{number:024x}{turn:08x}",
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        again = {**params, "MessageSid": f"SM{number:024x}{turn + 0x10000000:08x}"}
        return Step(self._request("/sms", params), expect, self._request("/sms", again))

    def call(self, number: int) -> list[Step]:
        """A call: its requests in order, each with the TwiML it must get (step tokens included)."""
        lang, flag, unclear = self._plan()
        call_sid = f"CA{number:032x}"
        params = {
            "CallSid": call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": f"+1557{number:07d}",
            "To": OUR_NUMBER,
            "CallStatus": "in-progress",
        }
        session, output = engine.start(self.flow, "voice", now=0)
        steps = [Step(self._request("/voice", params), self._voice_reply(call_sid, session, output))]
        wrong = next(
            k for k in "456789*" if self.flow.call_language_of_key(k) is None and k not in ANSWER_KEYS
        )
        # A call starts in the flow's first language; a caller of another presses its key first.
        first = [self.flow.call_languages[lang].key] if lang != self.flow.default_language else []
        turn = 0
        while output.outcome is None:
            if first:
                keys = first.pop()
            else:
                answer = self._answer(session, flag, unclear, turn)
                turn += 1
                keys = wrong if answer is None else ("1" if answer else "2")
            path = f"/voice/gather?t={self.pseudonyms.step_token(call_sid, session.turns)}"
            session, output = engine.step(self.flow, session, Input("keys", keys))
            steps.append(
                Step(
                    self._request(path, {**params, "Digits": keys}),
                    self._voice_reply(call_sid, session, output),
                )
            )
        return steps

    def _voice_reply(self, call_sid: str, session: Session, output: engine.Output) -> bytes:
        if output not in self._voice:
            self._voice[output] = voice.render(
                self.flow,
                output,
                action_url=f"{self.base_url}/voice/gather?t=@TOKEN@",
                handoff_url=f"{self.base_url}/voice/handoff?t=@TOKEN@",
                style=self.style,
            )
        token = self.pseudonyms.step_token(call_sid, session.turns)
        return self._voice[output].replace("@TOKEN@", token).encode()

    def conversations(self, count: int, first: int) -> list[list[Step]]:
        """Half texts, half calls, interleaved: even numbers text, odd numbers call."""
        return [self.text(n) if n % 2 == 0 else self.call(n) for n in range(first, first + count)]


@dataclass
class Tally:
    """What one run of the load saw: requests, wrong or failed replies, latencies."""

    requests: int = 0
    mismatches: int = 0
    failures: int = 0
    conversations: int = 0  # finished within the time
    started: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, share: float) -> float:
        """The latency below which `share` of the requests fell."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response from a stream: its status and its body."""
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def drive(
    host: str,
    port: int,
    conversations: list[list[Step]],
    *,
    connections: int,
    duration: float,
    check: bool = True,
) -> Tally:
    """Run conversations over keep-alive connections, each connection one conversation at a time,
    for `duration` seconds; every reply is checked against the one the line must give."""
    tally = Tally()
    queue = iter(conversations)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while loop.time() < deadline and (conversation := next(queue, None)) is not None:
                tally.started += 1
                for step in conversation:
                    if loop.time() >= deadline:
                        return
                    began = time.perf_counter()
                    writer.write(step.raw)
                    status, body = await read_response(reader)
                    tally.latencies.append(time.perf_counter() - began)
                    tally.requests += 1
                    if status != 200:
                        tally.failures += 1
                        break
                    if check and body != step.expect:
                        tally.mismatches += 1
                        break
                else:
                    tally.conversations += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    tally.seconds = time.perf_counter() - began
    return tally
