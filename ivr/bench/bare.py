"""The floor: a bare FastAPI endpoint that reads the same form the line reads and answers constant TwiML."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

from ivr.channels.sms import twiml

CONSTANT = twiml(["Thanks."]).encode()


def create_bare_app() -> FastAPI:
    """The floor: FastAPI parsing the same form and answering a constant TwiML body."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def handle(request: Request) -> Response:
        """Read the form and answer the same TwiML every time."""
        parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
        return Response(content=CONSTANT, media_type="application/xml")

    for path in ("/sms", "/voice", "/voice/gather"):
        app.post(path)(handle)
    return app
