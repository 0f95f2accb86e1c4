"""Why a call-control or agent-state request is refused, as kinds of the one error model."""

from __future__ import annotations

from domain.errors import Conflict, Invalid, NotFound, Refused


class UnknownCall(NotFound):
    code = "call_not_found"


class UnknownTarget(NotFound):
    code = "target_not_found"


class NotYourCall(Refused):
    code = "not_your_call"


class WrongState(Conflict):
    code = "call_state_conflict"


class InvalidRequest(Invalid):
    code = "invalid_call_request"
