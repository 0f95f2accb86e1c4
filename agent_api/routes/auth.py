"""Sign in and out."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, bearer, context, current_user, db
from agent_api.errors import responses
from agent_api.passwords import verify_password
from domain.errors import TooMany, Unauthenticated
from storage.users import SignIn, User, find_user, revoke_token, store_token

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


@router.post(
    "/login",
    summary="Exchange username and password for a bearer token",
    responses=responses(401, 429),
)
def login(body: Login, session: Session = Depends(db), ctx: ApiContext = Depends(context)) -> Token:
    wait = ctx.login_throttle.retry_after(body.username)
    if wait:
        raise TooMany(f"too many failed sign-ins for {body.username}: try again in {wait:.0f} s", int(wait) + 1,
                      code="sign_ins_throttled")
    user = find_user(session, body.username)
    if not verify_password(user.password_hash if user else None, body.password) or user is None:
        ctx.login_throttle.failed(body.username)
        raise Unauthenticated("wrong username or password", code="wrong_credentials")
    ctx.login_throttle.succeeded(body.username)
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    store_token(session, token, user.id, now, now + ctx.token_lifetime)
    ctx.sign_ins.remember(token, SignIn(user, now + ctx.token_lifetime), now)
    return Token(token=token, expires_at=now + ctx.token_lifetime, role=user.role, unit_code=user.unit_code)


@router.post("/logout", status_code=204, summary="Revoke the token used for this request")
def logout(
    credentials: HTTPAuthorizationCredentials = Depends(bearer),
    _: User = Depends(current_user),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> None:
    ctx.sign_ins.forget(credentials.credentials)
    revoke_token(session, credentials.credentials)


@router.get("/me", summary="Who the token belongs to")
def me(user: User = Depends(current_user)) -> Me:
    return Me(username=user.username, display_name=user.display_name, role=user.role, unit_code=user.unit_code)
