"""The agent and admin HTTP API under /api/v1."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agent_api.context import ApiContext
from storage.database import DATABASE_UNREACHABLE
from agent_api import live
from agent_api.nul_guard import RefuseNul
from agent_api.routes import (
    auth, barred_callers, calendar, callbacks, calls, departments, ivr, ivr_audio, knowledge, reports, tickets,
)

log = logging.getLogger(__name__)
DESCRIPTION = """hotline12345's API for agent desktops, supervisors, admins and department users.
Every route needs a bearer token from `POST /api/v1/auth/login`, except health. Live events
(screen-pops, call and transfer state, the wallboard) come over the websocket `/api/v1/live?token=…`."""


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(title="hotline12345 API", version="0.2.0", description=DESCRIPTION)
    app.state.context = ctx
    app.add_middleware(RefuseNul)
    for module in (
        auth, barred_callers, departments, knowledge, tickets, callbacks, reports, calls, ivr, ivr_audio, calendar, live,
    ):
        app.include_router(module.router)
    calls.install_error_handlers(app)

    async def database_unreachable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unreachable: %s", exc)
        return JSONResponse(
            {"detail": "the database is unreachable: nothing was saved; try again shortly"},
            status_code=503, headers={"Retry-After": "5"},
        )

    # A lost connection is a 503 saying nothing was saved, not a bare 500 (other database errors stay 500s).
    for error in DATABASE_UNREACHABLE:
        app.add_exception_handler(error, database_unreachable)

    @app.get(
        "/api/v1/health", tags=["health"],
        summary="Whether Asterisk (AMI), the database, FastAGI and speech recognition are up; warnings (e.g. next "
        "year's working calendar not entered) do not make it fail",
    )
    def get_health() -> JSONResponse:
        parts = ctx.health()
        body = {"ok": all(parts.values()), **parts, "warnings": ctx.health_warnings()}
        return JSONResponse(body, status_code=200 if all(parts.values()) else 503)

    return app
