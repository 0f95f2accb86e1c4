"""The IVR flow as data: the shape admins edit (YAML), checked by pydantic. What the fields mean
together (targets exist, no loops without caller input …) is checked in ivr.validation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Digit = Annotated[str, Field(pattern=r"^[0-9*#]$")]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")]
VariableName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")]
Seconds = Annotated[int, Field(ge=1, le=30)]
Retries = Annotated[int, Field(ge=0, le=5)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudioPrompt(_Node):
    """A prompt recorded by an admin and uploaded (PUT /admin/ivr/audio/{name})."""

    audio: NodeId


Prompt = Annotated[str, Field(min_length=1, max_length=500)] | AudioPrompt


class PlayNode(_Node):
    """Plays a prompt; a key from `keys` pressed while it plays jumps to that node."""

    type: Literal["play"]
    prompt: str
    keys: dict[Digit, NodeId] = {}
    next: NodeId


class MenuNode(_Node):
    """Plays the prompt and waits for a key. A key not in `options`, or none within the timeout,
    plays `invalid_prompt` (if any) and asks again, `retries` more times, then goes to `fallback`.
    A key listed in `languages` also declares the caller's language (for the dialect desks)."""

    type: Literal["menu"]
    prompt: str
    options: dict[Digit, NodeId] = Field(min_length=1)
    languages: dict[Digit, Language] = {}
    timeout_seconds: Seconds = 5
    retries: Retries = 2
    invalid_prompt: str | None = None
    fallback: NodeId


class CollectDigitsNode(_Node):
    """Asks for digits (ended by # or the timeout) and keeps them in the call's variable `into`."""

    type: Literal["collect_digits"]
    prompt: str
    into: VariableName
    min_digits: int = Field(default=1, ge=1, le=20)
    max_digits: int = Field(default=20, ge=1, le=20)
    timeout_seconds: Seconds = 8
    retries: Retries = 2
    invalid_prompt: str | None = None
    next: NodeId
    failed: NodeId


class ConditionNode(_Node):
    """barred_caller: the caller is barred now. long_wait: the longest wait in the queues is at
    least `wait_seconds`. time_of_day: the local time is within `between` (may pass midnight).
    holiday: today is not a working day in the Chinese calendar (statutory holidays and weekends
    that are not make-up working days), or is one of `closed_dates`. repeat_caller: the caller
    called at least `repeat_calls` times in the last `repeat_days` days. language: the caller
    declared `language` in a menu."""

    type: Literal["condition"]
    test: Literal["barred_caller", "long_wait", "time_of_day", "holiday", "repeat_caller", "language"]
    wait_seconds: int = Field(default=60, ge=0, le=3600)
    between: tuple[ClockTime, ClockTime] | None = None
    closed_dates: tuple[date, ...] = ()
    repeat_calls: int = Field(default=3, ge=1, le=100)
    repeat_days: int = Field(default=7, ge=1, le=90)
    language: Language | None = None
    then: NodeId
    otherwise: NodeId = Field(alias="else")


class SpeechMessageNode(_Node):
    """Plays a prompt, then records what the caller says (a voice message, ended by #, silence or
    the time limit) to become a draft ticket and a callback; `failed` if it cannot be recorded."""

    type: Literal["speech_message"]
    prompt: str
    next: NodeId
    failed: NodeId


class TicketStatusNode(_Node):
    """The caller keys a ticket number and hears its status (全程可查). `not_found` when no ticket
    has that number, `failed` when no whole number was keyed after the retries."""

    type: Literal["ticket_status"]
    prompt: str
    timeout_seconds: Seconds = 10
    retries: Retries = 2
    invalid_prompt: str | None = None
    next: NodeId
    not_found: NodeId
    failed: NodeId


class CallbackOfferNode(_Node):
    """Offers a callback that keeps the caller's place: pressing `accept_key` books a stand-in that
    waits in `queue` for them, and the caller is called back when an agent takes it. The number is
    the caller ID, or the digits collected into `number_from`. `failed`: no callable number, or the
    booking failed."""

    type: Literal["callback_offer"]
    prompt: str
    accept_key: Digit = "1"
    timeout_seconds: Seconds = 5
    queue: str
    priority: int = Field(default=0, ge=0, le=99)
    number_from: Literal["caller_id"] | VariableName = "caller_id"
    accepted: NodeId
    declined: NodeId
    failed: NodeId


class QueueNode(_Node):
    """Ends the IVR in an Asterisk queue, first telling the caller how many are ahead and the
    expected wait if asked to."""

    type: Literal["queue"]
    queue: str
    priority: int = Field(default=0, ge=0, le=99)
    announce_position: bool = False
    announce_wait: bool = False


class TransferNode(_Node):
    """Ends the IVR by transferring to 110/119/120 or a department phone."""

    type: Literal["transfer"]
    target: str


class HangupNode(_Node):
    type: Literal["hangup"]


Node = Annotated[
    PlayNode
    | MenuNode
    | CollectDigitsNode
    | ConditionNode
    | SpeechMessageNode
    | TicketStatusNode
    | CallbackOfferNode
    | QueueNode
    | TransferNode
    | HangupNode,
    Field(discriminator="type"),
]
TERMINAL_NODES = (QueueNode, TransferNode, HangupNode)
PROMPT_FIELDS = ("prompt", "invalid_prompt")


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    language: Language = "zh"
    start: NodeId
    prompts: dict[NodeId, Prompt]
    nodes: dict[NodeId, Node]
