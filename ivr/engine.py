"""Runs a validated flow for one call, as a generator: it yields what to play and receives the
key the caller pressed ("" for none), and returns the routing decision. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from ivr.flow import ConditionNode, Flow, HangupNode, PlayNode, QueueNode, TransferNode


@dataclass(frozen=True)
class CallFacts:
    caller: str
    barred: bool


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


def run_flow(flow: Flow, facts: CallFacts) -> Generator[Play, str, Decision]:
    node_id = flow.start
    path: list[str] = []
    while True:
        path.append(node_id)
        node = flow.nodes[node_id]
        if isinstance(node, PlayNode):
            pressed = yield Play(node.prompt, "".join(node.keys))
            node_id = node.keys.get(pressed, node.next)
        elif isinstance(node, ConditionNode):
            node_id = node.then if facts.barred else node.otherwise
        elif isinstance(node, QueueNode):
            return Decision("queue", tuple(path), queue=node.queue, priority=node.priority, language=flow.language)
        elif isinstance(node, TransferNode):
            return Decision("transfer", tuple(path), target=node.target, language=flow.language)
        else:
            assert isinstance(node, HangupNode)
            return Decision("hangup", tuple(path), language=flow.language)
