"""The phone in the browser (local mode only): the page, and routes that text and call the real
webhooks through Twilio's side of the line, signed as Twilio signs them (ivr.simulator.twilio_sim)."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from ivr.config import is_loopback
from ivr.simulator.twilio_sim import Call, Spoken, parse_twiml, said
from ivr.web.components import Components
from ivr.web.flow_view import describe, place_of, text_message
from ivr.web.local_mode import LocalMode, local_mode_of
from ivr.web.turn_notes import conversation_of

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = frozenset({"phone.css", "phone.js"})
# The line's number and the people's, from the range reserved for fiction (555-01XX).
OUR_NUMBER = "+15550100000"
PHONE = re.compile(r"\+1555\d{7}")
MAX_CALLS = 32  # calls the page may hold at once; the oldest is forgotten past that
NO_STORE = {"cache-control": "no-store"}


def local_only(request: Request) -> LocalMode:
    """Local mode, asked from this computer by name: anything else is told the route does not
    exist. The Host check stops a page on another site from reaching here by DNS rebinding."""
    local = local_mode_of(request.app)
    client = request.client.host if request.client else ""
    host = (request.url.hostname or "").strip("[]")
    if local is None or not is_loopback(client) or not is_loopback(host):
        raise HTTPException(404)
    return local


def json_only(request: Request) -> None:
    """Posts must be JSON: a form on another site cannot send that without a preflight we never grant."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send JSON")


Local = Annotated[LocalMode, Depends(local_only)]


class TextIn(BaseModel):
    """A text typed on the page."""

    phone: str = Field(pattern=PHONE.pattern)
    body: str = Field(max_length=1600)


class CallIn(BaseModel):
    """What the caller did on the page: start, press, say, fall silent or hang up."""

    action: Literal["start", "press", "say", "silence", "hangup"]
    call: str | None = Field(None, pattern=r"CA[0-9a-f]{32}")
    phone: str = Field(pattern=PHONE.pattern)
    keys: str = Field("", pattern=r"[0-9*#]?")
    words: str = Field("", max_length=500)
    confidence: float = Field(0.9, ge=0, le=1)


@dataclass
class CallState:
    """What the page's call keeps between requests: the caller, and what the line said last."""

    caller: str
    last: Spoken | None


def mount(app: FastAPI) -> None:
    """Add the page and its routes to a local-mode app."""
    app.include_router(_router(OrderedDict()))


def _router(calls: OrderedDict[str, CallState]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def page(local: Local) -> FileResponse:
        """The phone simulator page."""
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    @router.get("/local/static/{name}")
    async def asset(name: str, local: Local) -> FileResponse:
        """One of the page's static files."""
        if name not in ASSETS:
            raise HTTPException(404)
        return FileResponse(STATIC / name, headers=NO_STORE)

    @router.get("/local/flow")
    async def flow(request: Request, local: Local) -> JSONResponse:
        """The flow's questions, outcomes and texts, for the side panel."""
        c: Components = request.app.state.components
        flow = c.registry.current
        spoken = {lang: c.voice_style.locale(lang) for lang in flow.languages}  # as the <Say>s have it
        described = describe(flow, voice_locales=spoken)
        # So the page can explain a pause in replies as the line's flood limit, with its numbers.
        described["rate_limit"] = {
            "texts": c.settings.rate_limit_texts,
            "window_seconds": c.settings.rate_limit_window,
        }
        return JSONResponse(described)

    @router.post("/local/text", dependencies=[Depends(json_only)])
    async def text(request: Request, sent: TextIn, local: Local) -> JSONResponse:
        """Post the typed text to /sms as Twilio would; the reply and where it leaves the conversation."""
        c: Components = request.app.state.components
        async with local.twilio(request.app) as twilio:
            bodies = await twilio.text(sent.body, sender=sent.phone, to=OUR_NUMBER)
        passages = [line for body in bodies for line in body.split("\n")]
        return JSONResponse(
            {
                "messages": [text_message(body) for body in bodies],
                "at": place_of(c.registry.current, passages, voice=False).as_json(),
                "taken": _taken(local, c, "sms", sent.phone),
            }
        )

    @router.post("/local/call", dependencies=[Depends(json_only)])
    async def call(request: Request, sent: CallIn, local: Local) -> JSONResponse:
        """Do what the caller did, as Twilio would; what the line says and where the call stands."""
        c: Components = request.app.state.components
        if sent.action == "start":
            sid = "CA" + secrets.token_hex(16)
            calls[sid] = CallState(sent.phone, None)
            while len(calls) > MAX_CALLS:
                calls.popitem(last=False)
        else:
            sid = sent.call or ""
        state = calls.get(sid)
        if state is None or state.caller != sent.phone:
            raise HTTPException(404, "no such call: start one")
        async with local.twilio(request.app) as twilio:
            line = Call(twilio, sid, state.caller, OUR_NUMBER, last=state.last)
            try:
                spoken = await _act(line, sent)
            except RuntimeError as exc:  # a key or words when the line is not listening
                raise HTTPException(409, str(exc)) from None
            ended = spoken is None or spoken.gather_action is None
            if ended:
                calls.pop(sid, None)
                if spoken is not None:
                    await line.hang_up()  # the line hung up: Twilio reports the call completed
            else:
                state.last = spoken
        taken = _taken(local, c, "voice", state.caller)
        if spoken is None:
            return JSONResponse(
                {"call": sid, "says": [], "listening": None, "ended": True, "at": None, "taken": taken}
            )
        return JSONResponse(
            {
                "call": sid,
                "says": _says(spoken),
                "listening": _listening(spoken),
                "ended": ended,
                "at": place_of(c.registry.current, spoken.says, voice=True).as_json(),
                "taken": taken,
            }
        )

    return router


def _taken(local: LocalMode, c: Components, channel: str, caller: str) -> dict[str, Any] | None:
    """How the line took what the page just sent, as the service noted it; None when no turn was
    noted (the safety net answered, or the call was hung up)."""
    note = local.notes.take(conversation_of(c.observer, channel, caller))
    return note.as_json() if note is not None else None


async def _act(line: Call, sent: CallIn) -> Spoken | None:
    """What the person did, done as Twilio would report it; None after hanging up."""
    if sent.action == "start":
        return await line.start()
    if sent.action == "press":
        if not sent.keys:
            raise HTTPException(422, "press which key?")
        return await line.press(sent.keys)
    if sent.action == "say":
        if not sent.words.strip():
            raise HTTPException(422, "say what?")
        if line.last is not None and _listening(line.last) != "keys and speech":
            # Twilio sends no speech from a keys-only <Gather>; neither does the page.
            raise HTTPException(409, "the line is listening for keys only")
        return await line.say(sent.words, sent.confidence)
    if sent.action == "silence":
        return await line.silence()
    await line.hang_up()
    return None


def _says(spoken: Spoken) -> list[dict[str, Any]]:
    """Each <Say> with its language, so the page can read it aloud with the right voice."""
    root = parse_twiml(spoken.xml)
    says = [{"text": said(say), "locale": say.get("language", "")} for say in root.iter("Say")]
    if root.find("Dial") is not None:
        says.append({"text": "(The line puts the call through to a person here.)", "locale": ""})
    return says


def _listening(spoken: Spoken) -> str | None:
    """What the line's <Gather> takes: keys and speech, keys only, or nothing (no gather)."""
    gather: ET.Element | None = parse_twiml(spoken.xml).find("Gather")
    if gather is None:
        return None
    return "keys and speech" if "speech" in gather.get("input", "dtmf") else "keys"
