"""Sign in and out."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, bearer, client_address, context, current_user, db
from agent_api.errors import responses
from agent_api.passwords import check_password
from domain.errors import Unauthenticated
from storage.database import reading
from storage.users import SignIn, User, find_user, revoke_token, store_token, token_digest

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, examples=["agent8001"])
    password: str = Field(min_length=1, max_length=256, examples=["correct horse battery staple"])


class Token(BaseModel):
    token: str
    expires_at: datetime
    role: str
    unit_code: str | None


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    unit_code: str | None


@router.post("/login", summary="Exchange username and password for a bearer token", responses=responses(401, 429))
async def login(body: Login, request: Request, ctx: ApiContext = Depends(context)) -> Token:
    # A throttled attempt is refused on the event loop, holding no thread. The password is checked
    # with no transaction open: Argon2 takes a while, and the database (SQLite's one write lock)
    # must not wait for it.
    attempt = ctx.sign_in_throttle.admit(body.username, client_address(request))
    user = await asyncio.to_thread(_find_user, ctx, body.username)
    if not await check_password(user.password_hash if user else None, body.password) or user is None:
        raise Unauthenticated("wrong username or password", code="wrong_credentials")
    ctx.sign_in_throttle.succeeded(attempt)
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await asyncio.to_thread(_store_token, ctx, token, user.id, now, now + ctx.token_lifetime)
    ctx.sign_ins.remember(token, SignIn(user, now + ctx.token_lifetime), now)
    return Token(token=token, expires_at=now + ctx.token_lifetime, role=user.role, unit_code=user.unit_code)


def _find_user(ctx: ApiContext, username: str) -> User | None:
    with reading(ctx.sessions) as session:
        return find_user(session, username)


def _store_token(ctx: ApiContext, token: str, user_id: int, now: datetime, expires_at: datetime) -> None:
    with ctx.sessions() as session, session.begin():
        store_token(session, token, user_id, now, expires_at)


@router.post("/logout", status_code=204, summary="Revoke the token used for this request")
def logout(
    credentials: HTTPAuthorizationCredentials = Depends(bearer),
    _: User = Depends(current_user),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> None:
    ctx.sign_ins.forget(credentials.credentials)
    ctx.hub.signed_out(token_digest(credentials.credentials))  # its live sockets close
    revoke_token(session, credentials.credentials)


@router.get("/me", summary="Who the token belongs to")
def me(user: User = Depends(current_user)) -> Me:
    return Me(username=user.username, display_name=user.display_name, role=user.role, unit_code=user.unit_code)
