"""The agent and admin HTTP API. So far: health, reflecting Asterisk, database and FastAGI."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_app(health: Callable[[], dict[str, bool]]) -> FastAPI:
    app = FastAPI(title="hotline12345 agent API", version="0.1.0")

    @app.get("/api/v1/health", summary="Whether Asterisk (AMI), the database and FastAGI are up")
    def get_health() -> JSONResponse:
        parts = health()
        return JSONResponse({"ok": all(parts.values()), **parts}, status_code=200 if all(parts.values()) else 503)

    return app
