"""Who is signed in, read from the database, with the last confirmed answers remembered so agents
stay signed in while the database is unreachable (they can still take calls and record tickets,
which are kept until it is back). Only a token the database confirmed, and only until it expires."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy.orm import Session

from storage.database import DATABASE_UNREACHABLE
from storage.users import SignIn, User, sign_in_for_token, token_digest

PRUNE_ABOVE = 1000  # remembered sign-ins before expired ones are dropped


class SignIns:
    def __init__(self) -> None:
        self._confirmed: dict[str, SignIn] = {}
        self._lock = threading.Lock()

    def user(self, session: Session, token: str, now: datetime) -> User | None:
        """The token's user (None: unknown, revoked or expired)."""
        sign_in = self.sign_in(session, token, now)
        return sign_in.user if sign_in else None

    def sign_in(self, session: Session, token: str, now: datetime) -> SignIn | None:
        """The token's user and expiry (None: unknown, revoked or expired). With the database
        unreachable, what it last confirmed for this token; with none confirmed, its error is raised."""
        try:
            sign_in = sign_in_for_token(session, token, now)
        except DATABASE_UNREACHABLE:
            with self._lock:
                remembered = self._confirmed.get(token_digest(token))
            if remembered is None:
                raise
            return remembered if remembered.expires_at > now else None
        if sign_in is None:
            self.forget(token)
            return None
        self.remember(token, sign_in, now)
        return sign_in

    def holds(self, token: str, now: datetime) -> bool:
        """Whether the token is still good as far as this process knows, without asking the
        database: confirmed, not signed out, not expired."""
        with self._lock:
            remembered = self._confirmed.get(token_digest(token))
        return remembered is not None and remembered.expires_at > now

    def remember(self, token: str, sign_in: SignIn, now: datetime) -> None:
        with self._lock:
            self._confirmed[token_digest(token)] = sign_in
            if len(self._confirmed) > PRUNE_ABOVE:
                self._confirmed = {d: s for d, s in self._confirmed.items() if s.expires_at > now}

    def forget(self, token: str) -> None:
        """Signed out: the token is not honoured from memory either, even before the database hears of it."""
        with self._lock:
            self._confirmed.pop(token_digest(token), None)
