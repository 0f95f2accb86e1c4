"""Runs a validated flow for one call, as a generator: it yields what to play (and receives the
key the caller pressed, "" for none) or a voice message to record (and receives whether it was
recorded), and returns the routing decision. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from ivr.flow import ConditionNode, Flow, HangupNode, PlayNode, QueueNode, SpeechMessageNode, TransferNode


@dataclass(frozen=True)
class CallFacts:
    caller: str
    barred: bool
    longest_wait_seconds: float = 0.0  # the longest current wait in the queues


@dataclass(frozen=True)
class VoiceMessage:
    """Play the prompt, then record a voice message; send back whether it was recorded."""

    prompt: str


@dataclass(frozen=True)
class Play:
    prompt: str
    escape_digits: str


@dataclass(frozen=True)
class Decision:
    action: str  # "queue" | "transfer" | "hangup"
    path: tuple[str, ...]
    queue: str = ""
    priority: int = 0
    target: str = ""
    language: str = "zh"


def _holds(node: ConditionNode, facts: CallFacts) -> bool:
    if node.test == "long_wait":
        return facts.longest_wait_seconds >= node.wait_seconds
    return facts.barred


def run_flow(flow: Flow, facts: CallFacts) -> Generator[Play | VoiceMessage, str | bool, Decision]:
    node_id = flow.start
    path: list[str] = []
    while True:
        path.append(node_id)
        node = flow.nodes[node_id]
        if isinstance(node, PlayNode):
            pressed = yield Play(node.prompt, "".join(node.keys))
            node_id = node.keys.get(str(pressed), node.next)
        elif isinstance(node, ConditionNode):
            node_id = node.then if _holds(node, facts) else node.otherwise
        elif isinstance(node, SpeechMessageNode):
            recorded = yield VoiceMessage(node.prompt)
            node_id = node.next if recorded else node.failed
        elif isinstance(node, QueueNode):
            return Decision("queue", tuple(path), queue=node.queue, priority=node.priority, language=flow.language)
        elif isinstance(node, TransferNode):
            return Decision("transfer", tuple(path), target=node.target, language=flow.language)
        else:
            assert isinstance(node, HangupNode)
            return Decision("hangup", tuple(path), language=flow.language)
