"""The IVR flow as data: the shape admins edit (YAML), checked by pydantic."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Digit = Annotated[str, Field(pattern=r"^[0-9*#]$")]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlayNode(_Node):
    """Plays a prompt; a key from `keys` pressed while it plays jumps to that node."""

    type: Literal["play"]
    prompt: str
    keys: dict[Digit, NodeId] = {}
    next: NodeId


class ConditionNode(_Node):
    """barred_caller: the caller is barred now; long_wait: the longest wait in the queue is at least
    `wait_seconds`."""

    type: Literal["condition"]
    test: Literal["barred_caller", "long_wait"]
    wait_seconds: int = Field(default=60, ge=0, le=3600)
    then: NodeId
    otherwise: NodeId = Field(alias="else")


class SpeechMessageNode(_Node):
    """Plays a prompt, then records what the caller says (a voice message, ended by #, silence or
    the time limit) to become a draft ticket and a callback; `failed` if it cannot be recorded."""

    type: Literal["speech_message"]
    prompt: str
    next: NodeId
    failed: NodeId


class QueueNode(_Node):
    type: Literal["queue"]
    queue: str
    priority: int = Field(default=0, ge=0, le=99)


class TransferNode(_Node):
    type: Literal["transfer"]
    target: str


class HangupNode(_Node):
    type: Literal["hangup"]


Node = Annotated[
    Union[PlayNode, ConditionNode, SpeechMessageNode, QueueNode, TransferNode, HangupNode], Field(discriminator="type")
]
TERMINAL_NODES = (QueueNode, TransferNode, HangupNode)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    language: str = "zh"
    start: NodeId
    prompts: dict[NodeId, Annotated[str, Field(min_length=1, max_length=500)]]
    nodes: dict[NodeId, Node]
