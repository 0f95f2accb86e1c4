"""What the API's routes need, built by the composition root and kept on app.state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from agent_api.live_hub import Hub
from agent_api.sign_ins import SignIns
from agent_api.throttle import MissThrottle, SignInThrottle
from domain.callback_numbers import CallbackNumbers
from domain.errors import Refused, Unauthenticated
from services.calendar import WorkingCalendars
from services.search_indexes import SearchIndexes
from services.ticket_intake import TicketIntake
from storage.database import reading
from storage.users import User
from telephony.cti import Cti

if TYPE_CHECKING:
    from services.ivr_versions import IvrAdmin
    from services.ticket_intake import TicketBacklog
    from telephony.prompt_audio import PromptAudioStore


@dataclass
class ApiContext:
    sessions: Callable[[], Session]
    health: Callable[[], dict[str, bool]]
    health_warnings: Callable[[], list[str]] = list  # what needs doing soon, though nothing has failed
    cti: Cti | None = None  # call control; None when the API runs without Asterisk
    hub: Hub = field(default_factory=Hub)
    token_lifetime: timedelta = timedelta(hours=12)
    indexes: SearchIndexes = field(default_factory=SearchIndexes)  # shared with speech drafting
    sign_in_throttle: SignInThrottle = field(default_factory=SignInThrottle)
    progress_throttle: MissThrottle = field(default_factory=MissThrottle)  # public progress lookups
    max_body_bytes: int = 1024 * 1024  # request bodies; uploads and imports have their own, larger limits
    sign_ins: SignIns = field(default_factory=SignIns)
    ticket_backlog: TicketBacklog | None = None  # keeps new tickets while the database is down; None: refuse them
    ivr: IvrAdmin | None = None  # IVR flow versions; None when the API runs without them
    prompt_audio: PromptAudioStore | None = None  # uploaded IVR prompt recordings
    callback_numbers: CallbackNumbers = field(default_factory=CallbackNumbers)  # numbers callbacks may go to
    intake: TicketIntake = None  # type: ignore[assignment]  # by default, on a working calendar over `sessions`

    def __post_init__(self) -> None:
        if self.intake is None:
            self.intake = TicketIntake(WorkingCalendars(self.sessions))

    @property
    def calendars(self) -> WorkingCalendars:
        return self.intake.calendars


def context(request: Request) -> ApiContext:
    return request.app.state.context


def db(request: Request, ctx: ApiContext = Depends(context)) -> Iterator[Session]:
    """One transaction per request: committed if the route returns, rolled back if it raises. GET
    routes only read, in a transaction that takes no write lock."""
    if request.method in ("GET", "HEAD"):
        with reading(ctx.sessions) as session:
            yield session
        return
    with ctx.sessions() as session, session.begin():
        yield session


def client_address(request: Request) -> str:
    """Where the request comes from, as throttles count it."""
    return request.client.host if request.client else ""


bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def current_user(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer), ctx: ApiContext = Depends(context)
) -> User:
    """The token's user, read in a transaction of its own: call-control routes must not hold a
    database transaction open while they wait for Asterisk. While the database is unreachable, a
    token it confirmed earlier is still honoured (see SignIns)."""
    if credentials is None:
        raise Unauthenticated("sign in first: Authorization: Bearer <token>")
    with reading(ctx.sessions) as session:
        user = ctx.sign_ins.user(session, credentials.credentials, datetime.now(UTC))
    if user is None:
        raise Unauthenticated("token unknown or expired: sign in again", code="token_invalid")
    return user


def require(*roles: str) -> Callable[..., User]:
    """A dependency admitting only users with one of `roles`."""

    def check(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            raise Refused(f"role {user.role} may not do this; needs {' or '.join(roles)}", code="role_not_allowed")
        if user.role == "department" and not user.unit_code:  # it would be scoped to no unit: refuse, not show all
            raise Refused("this department account has no unit: an admin must set one", code="department_without_unit")
        return user

    return check
