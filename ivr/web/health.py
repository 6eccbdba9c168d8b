"""For operators: liveness and readiness probes, and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from ivr.web.components import Components
from ivr.web.deps import Deps

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def is_ready(c: Components) -> bool:
    """Redis answers and the circuit breaker lets turns through."""
    try:
        async with asyncio.timeout(c.settings.redis_timeout * 2):
            return await c.store.ping()
    except Exception:  # any failure to reach Redis means not ready; the reason is not exposed
        return False


@router.get("/readyz")
async def readyz(c: Deps) -> JSONResponse:
    """Redis answers: ready to take conversations. Webhooks still answer (safety net) when not."""
    if await is_ready(c):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "redis unavailable"}, status_code=503)


@router.get("/metrics")
async def metrics(c: Deps) -> Response:
    """Prometheus metrics; readiness is checked as /readyz does, so that it can be alerted on."""
    c.metrics.set_ready(await is_ready(c))
    return Response(content=c.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
