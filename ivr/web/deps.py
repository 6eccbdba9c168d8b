"""FastAPI dependencies for the operator routes (the webhooks take their parts directly)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ivr.web.components import Components


def components(request: Request) -> Components:
    """The app's components, as create_app built them."""
    found: Components = request.app.state.components
    return found


Deps = Annotated[Components, Depends(components)]
