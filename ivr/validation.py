"""Loading and checking an IVR flow: first its shape, then its meaning."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from ivr.flow import ConditionNode, Flow, Node, PlayNode, QueueNode, SpeechMessageNode, TransferNode


@dataclass(frozen=True)
class FlowError:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


class InvalidFlow(ValueError):
    def __init__(self, errors: list[FlowError]):
        self.errors = errors
        super().__init__("invalid IVR flow:\n" + "\n".join(f"  - {e}" for e in errors))


def successors(node: Node) -> list[tuple[str, str]]:
    """(field, node id) pairs a node can go to next."""
    if isinstance(node, PlayNode):
        return [("next", node.next)] + [(f"keys.{digit}", to) for digit, to in node.keys.items()]
    if isinstance(node, ConditionNode):
        return [("then", node.then), ("else", node.otherwise)]
    if isinstance(node, SpeechMessageNode):
        return [("next", node.next), ("failed", node.failed)]
    return []


def _meaning_errors(flow: Flow, queues: Collection[str], targets: Collection[str]) -> Iterator[FlowError]:
    if flow.start not in flow.nodes:
        yield FlowError("start", f"node '{flow.start}' does not exist; name one of: {', '.join(flow.nodes)}")
    for node_id, node in flow.nodes.items():
        where = f"nodes.{node_id}"
        for field, to in successors(node):
            if to not in flow.nodes:
                yield FlowError(f"{where}.{field}", f"goes to node '{to}', which does not exist")
        if isinstance(node, (PlayNode, SpeechMessageNode)) and node.prompt not in flow.prompts:
            yield FlowError(f"{where}.prompt", f"prompt '{node.prompt}' is not defined under prompts")
        if isinstance(node, QueueNode) and node.queue not in queues:
            yield FlowError(f"{where}.queue", f"queue '{node.queue}' is not configured; known: {', '.join(queues)}")
        if isinstance(node, TransferNode) and node.target not in targets:
            yield FlowError(f"{where}.target", f"target '{node.target}' is not configured; known: {', '.join(targets)}")
    yield from _cycle_errors(flow)


def _cycle_errors(flow: Flow) -> Iterator[FlowError]:
    """Every path must end in a queue, transfer or hangup: with no menus yet, any loop is an error."""
    state: dict[str, str] = {}

    def visit(node_id: str, trail: list[str]) -> Iterator[FlowError]:
        if node_id not in flow.nodes or state.get(node_id) == "done":
            return
        if state.get(node_id) == "open":
            loop = trail[trail.index(node_id):] + [node_id]
            yield FlowError(f"nodes.{node_id}", f"loop {' -> '.join(loop)} never reaches a queue, transfer or hangup")
            return
        state[node_id] = "open"
        for _, to in successors(flow.nodes[node_id]):
            yield from visit(to, trail + [node_id])
        state[node_id] = "done"

    yield from visit(flow.start, [])


def parse_flow(data: object, queues: Collection[str], targets: Collection[str]) -> Flow:
    """Checks shape then meaning; raises InvalidFlow naming each node and field at fault."""
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise InvalidFlow(
            [FlowError(".".join(str(p) for p in err["loc"]) or "flow", err["msg"]) for err in exc.errors()]
        ) from None
    errors = list(_meaning_errors(flow, queues, targets))
    if errors:
        raise InvalidFlow(errors)
    return flow


def load_flow(path: Path, queues: Collection[str], targets: Collection[str]) -> Flow:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidFlow([FlowError(str(path), f"not valid YAML: {exc}")]) from None
    return parse_flow(data, queues, targets)
