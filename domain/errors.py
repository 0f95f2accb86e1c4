"""The errors the system refuses requests with. Each has a stable `code` that clients can branch on
(the message is for people and may change) and belongs to one kind, which the HTTP edge maps to a
status: not found, conflict, invalid, forbidden, unavailable, too large, too many. Pure."""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    """`code`: the class's, unless the raiser names a more precise one (e.g. "ticket_not_found")."""

    code: ClassVar[str] = "error"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]

    def fields(self) -> dict[str, Any]:
        """What the error adds to its body besides code and detail (e.g. the allowed actions)."""
        return {}


class NotFound(HotlineError):
    code = "not_found"


class Conflict(HotlineError):
    """Not possible in the present state of what it acts on."""

    code = "conflict"


class ChangedMeanwhile(Conflict):
    """Someone else changed it between reading and writing: reload and retry."""

    code = "changed_meanwhile"


class Invalid(HotlineError):
    """The request's data is wrong or incomplete."""

    code = "invalid"


class Refused(HotlineError):
    """This user may not do this."""

    code = "forbidden"


class Unauthenticated(HotlineError):
    code = "sign_in_required"


class Unavailable(HotlineError):
    """A part it needs is down; try again later."""

    code = "unavailable"
    retry_after_seconds: int | None = 5


class TooLarge(HotlineError):
    code = "too_large"


class TooMany(HotlineError):
    """Too many requests: wait `retry_after_seconds`."""

    code = "too_many_requests"

    def __init__(self, detail: str, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(detail, code)
        self.retry_after_seconds = retry_after_seconds


class UpstreamFailed(HotlineError):
    """A part it relies on (Asterisk, the prompt renderer) failed to do it; nothing was changed."""

    code = "upstream_failed"
