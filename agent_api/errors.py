"""The API's one error model. Every refusal is a JSON body `{"error": code, "detail": text}` plus the
fields its error adds (`allowed_actions`, `missing`, `errors` …): `error` is stable for clients to
branch on, `detail` is for people. Domain and service errors (domain.errors) carry their code and
kind; this module alone turns a kind into an HTTP status."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from domain.errors import (
    Conflict,
    HotlineError,
    Invalid,
    NotFound,
    Refused,
    TooLarge,
    TooMany,
    Unauthenticated,
    Unavailable,
    UpstreamFailed,
)
from storage.database import DATABASE_UNREACHABLE

log = logging.getLogger(__name__)

STATUS_OF_KIND: tuple[tuple[type[HotlineError], int], ...] = (  # the first kind an error is of
    (Unavailable, 503),  # an unavailability is said as such, whatever else it is
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (Refused, 403),
    (Unauthenticated, 401),
    (TooLarge, 413),
    (TooMany, 429),
    (UpstreamFailed, 502),
)
CODE_OF_STATUS = {
    404: "not_found",
    405: "method_not_allowed",
    401: "sign_in_required",
    403: "forbidden",
    413: "too_large",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}
DATABASE_DOWN = "the database is unreachable: nothing was saved; try again shortly"


class ErrorOut(BaseModel):
    """What every refusal carries; some add fields (see each route's responses)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="a stable code, e.g. ticket_not_found, illegal_transition, sign_in_required")
    detail: Any = Field(description="what is wrong and what to do, for people (request validation: a list)")


class AllowedActionsOut(ErrorOut):
    allowed_actions: list[str] | None = Field(
        default=None, description="what this user may do instead, in the present status (illegal_transition)"
    )


class MissingPartsOut(ErrorOut):
    missing: list[str] | None = Field(default=None, description="the reply's missing parts (reply_incomplete)")


class WhereProblemOut(BaseModel):
    where: str
    problem: str


class NamedErrorsOut(ErrorOut):
    errors: list[WhereProblemOut] | None = Field(
        default=None, description="each error with where it is (absent when the request itself was malformed)"
    )


class ListedErrorsOut(ErrorOut):
    errors: list[str] | None = Field(
        default=None, description="each error of the file (absent when the request itself was malformed)"
    )


DESCRIPTIONS = {
    400: "the body could not be read (not JSON)",
    401: "not signed in, or the token is unknown or expired",
    403: "this role (or account) may not do this",
    404: "not found (or not visible to this user)",
    409: "not possible in the present state, or changed meanwhile: reload and retry",
    413: "the request is too large",
    422: "the request's data is wrong or incomplete",
    429: "too many attempts: wait Retry-After seconds",
    502: "a part this relies on failed to do it; nothing was changed",
    503: "a part this needs is down (database, Asterisk): nothing was done; try again",
}
PUBLIC_PATHS = frozenset({"/api/v1/health", "/api/v1/public/progress", "/api/v1/auth/login"})
SIGNED_IN = (400, 401, 403, 422, 503)  # what every route needing a token may answer
PUBLIC = (400, 422, 503)


def responses(*statuses: int, **models: type[ErrorOut]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for error statuses: ErrorOut, or the model given as `s409=AllowedActionsOut`."""
    return {
        status: {"model": models.get(f"s{status}", ErrorOut), "description": DESCRIPTIONS[status]}
        for status in statuses
    }


def document_errors(app: FastAPI) -> None:
    """Lists, on every operation of the OpenAPI description, the refusals any route of its kind may
    give besides its own listed ones: signing in, validation (in our error body, not FastAPI's), 404
    where the path names something, and 413 where a body is sent."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
        error_schema = {"$ref": "#/components/schemas/ErrorOut"}
        for path, operations in document.get("paths", {}).items():
            statuses = [*(PUBLIC if path in PUBLIC_PATHS else SIGNED_IN), *((404,) if "{" in path else ())]
            for method, operation in operations.items():
                replies = operation.setdefault("responses", {})
                if "HTTPValidationError" in str(replies.get("422", "")):
                    del replies["422"]
                sends_a_body = method in ("post", "put", "patch")  # bounded before it is read (body_limit)
                for status in (*statuses, *((413,) if sends_a_body else ())):
                    replies.setdefault(
                        str(status),
                        {
                            "description": DESCRIPTIONS[status],
                            "content": {"application/json": {"schema": error_schema}},
                        },
                    )
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def status_of(error: HotlineError) -> int:
    return next((status for kind, status in STATUS_OF_KIND if isinstance(error, kind)), 500)


def error_response(
    status: int, code: str, detail: Any, headers: Mapping[str, str] | None = None, **fields: Any
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **fields}, status_code=status, headers=headers)


def _retry_after(error: HotlineError) -> dict[str, str] | None:
    seconds = getattr(error, "retry_after_seconds", None)
    return {"Retry-After": str(seconds)} if seconds else None


async def _hotline_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HotlineError)
    status = status_of(exc)
    if status >= 500:
        log.warning("refused with %d %s: %s", status, exc.code, exc.detail)
    return error_response(status, exc.code, exc.detail, _retry_after(exc), **exc.fields())


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = CODE_OF_STATUS.get(exc.status_code, f"http_{exc.status_code}")
    return error_response(exc.status_code, code, exc.detail, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """The fields at fault and why; never the values sent (they may be huge, or someone's data)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return error_response(422, "invalid_request", problems)


async def _database_unreachable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unreachable: %s", exc)
    return error_response(503, "database_unreachable", DATABASE_DOWN, {"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HotlineError, _hotline_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # A lost connection is a 503 saying nothing was saved, not a bare 500 (other database errors stay 500s).
    for error in DATABASE_UNREACHABLE:
        app.add_exception_handler(error, _database_unreachable)
