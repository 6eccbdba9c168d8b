"""Trying the line in a terminal (`ivr chat`, `ivr call`): the real app in local mode, in this
process, with requests signed as Twilio signs them, the same Twilio side as the simulator page's."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TextIO

from ivr.config import ConfigError, load_settings
from ivr.simulator.twilio_sim import Call, Spoken, TwilioSimulator, parse_twiml
from ivr.web.app import create_app
from ivr.web.local_mode import local_mode_of

OUR_NUMBER = "+15550100000"
THEIR_NUMBER = "+15550100001"
KEYS = re.compile(r"[0-9*#]+")


def text_in_terminal() -> int:
    """Text the line: each line typed is a message, each reply printed."""
    return _play(_chat)


def call_in_terminal() -> int:
    """Call the line: type a key or words and Enter; Enter alone is silence."""
    return _play(_call)


def _play(conversation: Callable[[TwilioSimulator, TextIO, TextIO], Awaitable[None]]) -> int:
    """Run a conversation against the real app in local mode, in this process, with requests signed
    as Twilio signs them: the same Twilio side as the simulator page's."""
    settings = load_settings(twilio_auth_token=None, ivr_hash_key=None)  # local mode, whatever is set
    logging.getLogger("ivr").setLevel(logging.ERROR)
    app = create_app(settings)
    local = local_mode_of(app)
    if local is None:  # cannot happen: the settings above have no secrets
        raise ConfigError("ivr chat and ivr call run in local mode only")

    async def run() -> None:
        async with app.router.lifespan_context(app), local.twilio(app) as twilio:
            await conversation(twilio, sys.stdin, sys.stdout)

    asyncio.run(run())
    return 0


def _read(stream: TextIO, prompt: str, out: TextIO) -> str | None:
    out.write(prompt)
    out.flush()
    line = stream.readline()
    return None if line == "" else line.rstrip("\n")


async def _chat(twilio: TwilioSimulator, stdin: TextIO, out: TextIO) -> None:
    out.write("Texting the triage line. Type a message and press Enter; Ctrl-D to quit.\n")
    while (body := _read(stdin, "you> ", out)) is not None:
        messages = await twilio.text(body, sender=THEIR_NUMBER, to=OUR_NUMBER)
        for message in messages or ["(no reply)"]:
            out.write("line> " + message.replace("\n", "\n      ") + "\n")


async def _call(twilio: TwilioSimulator, stdin: TextIO, out: TextIO) -> None:
    out.write(
        "Calling the triage line. Type a key (1 yes, 2 no) or what you would say (yes, no, not sure),"
        " then Enter; Enter alone is silence; Ctrl-D hangs up.\n"
    )
    call = twilio.call(caller=THEIR_NUMBER, to=OUR_NUMBER)
    spoken = await call.start()
    while True:
        for say in spoken.says:
            out.write("line says> " + say + "\n")
        if spoken.hangup or spoken.gather_action is None:
            out.write("(the line hung up)\n")
            break
        typed = _read(stdin, "you> ", out)
        if typed is None:
            break
        spoken = await _answer(call, spoken, typed.strip(), out)
    await call.hang_up()


async def _answer(call: Call, last: Spoken, typed: str, out: TextIO) -> Spoken:
    """Keys are pressed, words are said (as the speech recogniser would hand them over, at a
    confident 0.9), nothing is silence. Words where the line listens for keys only are not sent:
    Twilio would send nothing either, so the prompt is shown again."""
    if not typed:
        return await call.silence()
    if KEYS.fullmatch(typed):
        return await call.press(typed[:1])  # the line's <Gather> takes one key
    if not listens_for_speech(last):
        out.write("(the line listens for keys only here: press a key)\n")
        return replace(last, says=last.says[-1:])
    return await call.say(typed, 0.9)


def listens_for_speech(spoken: Spoken) -> bool:
    """Whether the prompt's <Gather> takes spoken answers as well as keys."""
    gather = parse_twiml(spoken.xml).find("Gather")
    return gather is not None and "speech" in gather.get("input", "dtmf")
