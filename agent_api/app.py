"""The agent and admin HTTP API under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from agent_api import live
from agent_api.body_limit import LimitBodies
from agent_api.context import ApiContext
from agent_api.errors import document_errors, install_error_handlers
from agent_api.nul_guard import RefuseNul
from agent_api.routes import (
    auth,
    barred_callers,
    calendar,
    callbacks,
    calls,
    departments,
    ivr,
    ivr_audio,
    knowledge,
    reports,
    tickets,
)

DESCRIPTION = """hotline12345's API for agent desktops, supervisors, admins and department users.
Every route needs a bearer token from `POST /api/v1/auth/login`, except health. Live events
(screen-pops, call and transfer state, the wallboard) come over the websocket `/api/v1/live?token=…`.

Every refusal is a JSON body `{"error": code, "detail": text}`, plus the fields some errors add
(`allowed_actions`, `missing`, `errors`): `error` is a stable code to branch on, `detail` is for
people. 401 not signed in; 403 the role may not; 404 not found (or not yours to see); 409 not
possible now, or changed meanwhile; 413 the body is too large; 422 invalid data; 429 too many attempts
(Retry-After); 502 a part we rely on failed; 503 a part we need is down, nothing was done (Retry-After)."""


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(title="hotline12345 API", version="0.3.0", description=DESCRIPTION)
    app.state.context = ctx
    app.add_middleware(RefuseNul)
    # Outermost, so that nothing reads a body past its limit (the last added wraps the others).
    app.add_middleware(
        LimitBodies, default=ctx.max_body_bytes, larger={**ivr_audio.LARGE_BODIES, **knowledge.LARGE_BODIES}
    )
    for module in (
        auth,
        barred_callers,
        departments,
        knowledge,
        tickets,
        callbacks,
        reports,
        calls,
        ivr,
        ivr_audio,
        calendar,
        live,
    ):
        app.include_router(module.router)
    install_error_handlers(app)
    document_errors(app)

    @app.get(
        "/api/v1/health",
        tags=["health"],
        summary="Whether Asterisk (AMI), the database, FastAGI and speech recognition are up; warnings (e.g. next "
        "year's working calendar not entered) do not make it fail",
    )
    def get_health() -> JSONResponse:
        parts = ctx.health()
        body = {"ok": all(parts.values()), **parts, "warnings": ctx.health_warnings()}
        return JSONResponse(body, status_code=200 if all(parts.values()) else 503)

    return app
