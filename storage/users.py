"""Users and their bearer tokens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.tables import ApiTokenRow, UserRow


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    unit_code: str | None
    display_name: str
    password_hash: str


def _user(row: UserRow) -> User:
    return User(row.id, row.username, row.role, row.unit_code, row.display_name, row.password_hash)


def create_user(
    session: Session, username: str, password_hash: str, role: str, display_name: str, unit_code: str | None = None
) -> User:
    row = UserRow(
        username=username, password_hash=password_hash, role=role, display_name=display_name, unit_code=unit_code
    )
    session.add(row)
    session.flush()
    return _user(row)


def find_user(session: Session, username: str) -> User | None:
    row = session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
    return _user(row) if row else None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def store_token(session: Session, token: str, user_id: int, created_at: datetime, expires_at: datetime) -> None:
    session.add(
        ApiTokenRow(token_sha256=token_digest(token), user_id=user_id, created_at=created_at, expires_at=expires_at)
    )


@dataclass(frozen=True)
class SignIn:
    user: User
    expires_at: datetime


def sign_in_for_token(session: Session, token: str, now: datetime) -> SignIn | None:
    """The active user a live token belongs to, and when the token expires."""
    found = session.execute(
        select(UserRow, ApiTokenRow.expires_at)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_sha256 == token_digest(token), ApiTokenRow.expires_at > now, UserRow.active.is_(True))
    ).first()
    return SignIn(_user(found[0]), found[1]) if found else None


def revoke_token(session: Session, token: str) -> None:
    session.execute(delete(ApiTokenRow).where(ApiTokenRow.token_sha256 == token_digest(token)))
