"""Loading and checking an IVR flow: first its shape, then its meaning. Every error names the
node and field at fault and says what to fix; a flow with any error is never run or published."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.errors import Invalid
from domain.plain_yaml import MAX_DEPTH, NestedTooDeep, load_plain_yaml
from ivr.flow import (
    PROMPT_FIELDS,
    TERMINAL_NODES,
    AudioPrompt,
    CallbackOfferNode,
    CollectDigitsNode,
    ConditionNode,
    Flow,
    MenuNode,
    Node,
    PlayNode,
    SpeechMessageNode,
    TicketStatusNode,
    TransferNode,
)

NODE_TYPES = (
    "play",
    "menu",
    "collect_digits",
    "condition",
    "speech_message",
    "ticket_status",
    "callback_offer",
    "queue",
    "transfer",
    "hangup",
)


@dataclass(frozen=True)
class FlowError:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


class InvalidFlow(Invalid, ValueError):
    code = "flow_invalid"

    def __init__(self, errors: list[FlowError]):
        self.errors = errors
        super().__init__("invalid IVR flow:\n" + "\n".join(f"  - {e}" for e in errors))

    def fields(self) -> dict[str, Any]:
        return {"errors": [{"where": e.where, "problem": e.problem} for e in self.errors]}


class FlowTooDeep(InvalidFlow):
    """Nested deeper than any flow is: refused as a draft too, like a source too large."""

    code = "flow_too_deep"


@dataclass(frozen=True)
class FlowCatalogue:
    """What a flow may refer to outside itself."""

    queues: Collection[str]
    targets: Collection[str]  # transfer targets: 110/119/120 and department extensions
    audio: Collection[str] = ()  # names of uploaded prompt recordings


@dataclass(frozen=True)
class Edge:
    field: str
    to: str
    needs_input: bool  # taken only after the caller pressed keys or spoke


def edges(node: Node) -> list[Edge]:
    """Where a node can go next, and whether the caller must act for it to go there."""
    match node:
        case PlayNode():
            return [Edge("next", node.next, False)] + [Edge(f"keys.{d}", to, True) for d, to in node.keys.items()]
        case MenuNode():
            options = [Edge(f"options.{d}", to, True) for d, to in node.options.items()]
            return options + [Edge("fallback", node.fallback, False)]
        case CollectDigitsNode() | SpeechMessageNode():
            return [Edge("next", node.next, True), Edge("failed", node.failed, False)]
        case ConditionNode():
            return [Edge("then", node.then, False), Edge("else", node.otherwise, False)]
        case TicketStatusNode():
            return [
                Edge("next", node.next, True),
                Edge("not_found", node.not_found, True),
                Edge("failed", node.failed, False),
            ]
        case CallbackOfferNode():
            return [
                Edge("accepted", node.accepted, True),
                Edge("declined", node.declined, False),
                Edge("failed", node.failed, True),
            ]
    return []


def _speakable(text: str) -> bool:
    controls = (ch for ch in text if unicodedata.category(ch) == "Cc" and not ch.isspace())
    return any(ch.isalnum() for ch in text) and next(controls, None) is None


def _looks_like_an_option(text: str) -> bool:
    """Text espeak-ng would read as an option on its command line (the renderer gives it on standard input)."""
    return text.lstrip().startswith("-")


def _prompt_errors(flow: Flow, audio: Collection[str]) -> Iterator[FlowError]:
    for name, prompt in flow.prompts.items():
        if isinstance(prompt, AudioPrompt):
            if prompt.audio not in audio:
                yield FlowError(
                    f"prompts.{name}.audio",
                    f"no uploaded recording '{prompt.audio}': upload it (PUT /api/v1/admin/ivr/audio/{prompt.audio}) "
                    "or give the prompt as text",
                )
        elif not _speakable(prompt):
            yield FlowError(f"prompts.{name}", "cannot be spoken: write words, without control characters")
        elif _looks_like_an_option(prompt):
            yield FlowError(f"prompts.{name}", "begins with '-': begin the prompt with a word")


def _condition_errors(where: str, node: ConditionNode) -> Iterator[FlowError]:
    needed = {
        "time_of_day": ("between", node.between, '["08:00", "20:00"]'),
        "language": ("language", node.language, "yue"),
    }
    if node.test in needed and not needed[node.test][1]:
        field, _, example = needed[node.test]
        yield FlowError(f"{where}.{field}", f"test {node.test} needs {field}, e.g. {field}: {example}")
    if node.between and node.between[0] == node.between[1]:
        yield FlowError(f"{where}.between", "starts and ends at the same time, so it never holds: widen it")
    for field, value, test in (
        ("between", node.between, "time_of_day"),
        ("language", node.language, "language"),
        ("closed_dates", node.closed_dates, "holiday"),
    ):
        if value and node.test != test:
            yield FlowError(f"{where}.{field}", f"only used by test {test}, not {node.test}: remove it")


def _node_errors(flow: Flow, node_id: str, node: Node, catalogue: FlowCatalogue) -> Iterator[FlowError]:
    where = f"nodes.{node_id}"
    for edge in edges(node):
        if edge.to not in flow.nodes:
            yield FlowError(f"{where}.{edge.field}", f"goes to node '{edge.to}', which does not exist")
    for field in PROMPT_FIELDS:
        name = getattr(node, field, None)
        if name is not None and name not in flow.prompts:
            yield FlowError(f"{where}.{field}", f"prompt '{name}' is not defined under prompts")
    queue = getattr(node, "queue", None)
    if queue is not None and queue not in catalogue.queues:
        yield FlowError(f"{where}.queue", f"queue '{queue}' is not configured; known: {', '.join(catalogue.queues)}")
    if isinstance(node, TransferNode) and node.target not in catalogue.targets:
        known = ", ".join(catalogue.targets)
        yield FlowError(f"{where}.target", f"target '{node.target}' is not configured; known: {known}")
    if isinstance(node, MenuNode):
        for digit in node.languages:
            if digit not in node.options:
                yield FlowError(f"{where}.languages.{digit}", f"key {digit} is not one of the options: add it there")
    if isinstance(node, CollectDigitsNode) and node.min_digits > node.max_digits:
        yield FlowError(f"{where}.min_digits", f"{node.min_digits} is more than max_digits {node.max_digits}")
    if (
        isinstance(node, CallbackOfferNode)
        and node.number_from != "caller_id"
        and not any(isinstance(n, CollectDigitsNode) and n.into == node.number_from for n in flow.nodes.values())
    ):
        yield FlowError(
            f"{where}.number_from",
            f"no collect_digits node stores '{node.number_from}': add one (into: {node.number_from}) or use caller_id",
        )
    if isinstance(node, ConditionNode):
        yield from _condition_errors(where, node)


def _loop_errors(flow: Flow) -> Iterator[FlowError]:
    """A loop the call can go round without the caller pressing a key or speaking would run until
    the IVR's time budget is spent: each is an error (loops through a menu choice are fine).
    Depth-first over the edges taken without input, with an explicit stack (flows may be long)."""
    done: set[str] = set()
    for root in flow.nodes:
        if root in done:
            continue
        trail: list[str] = []
        on_trail: set[str] = set()
        stack: list[tuple[str, bool]] = [(root, False)]  # (node, leaving it)
        while stack:
            node_id, leaving = stack.pop()
            if leaving:
                trail.pop()
                on_trail.discard(node_id)
                done.add(node_id)
                continue
            if node_id in done:
                continue
            if node_id in on_trail:
                loop = trail[trail.index(node_id) :] + [node_id]
                yield FlowError(
                    f"nodes.{node_id}",
                    f"loop {' -> '.join(loop)} repeats without the caller pressing a key: end it in a queue, "
                    "transfer or hangup, or go round through a menu choice",
                )
                continue
            trail.append(node_id)
            on_trail.add(node_id)
            stack.append((node_id, True))
            for edge in reversed(edges(flow.nodes[node_id])):
                if not edge.needs_input and edge.to in flow.nodes:
                    stack.append((edge.to, False))


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start] if flow.start in flow.nodes else []
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo += [edge.to for edge in edges(flow.nodes[node_id]) if edge.to in flow.nodes]
    return seen


def _dead_end_errors(flow: Flow) -> Iterator[FlowError]:
    """Every node a call can reach must have some way on to a queue, transfer or hangup."""
    finishing = {node_id for node_id, node in flow.nodes.items() if isinstance(node, TERMINAL_NODES)}
    grew = True
    while grew:
        before = len(finishing)
        finishing |= {i for i, n in flow.nodes.items() if any(edge.to in finishing for edge in edges(n))}
        grew = len(finishing) > before
    for node_id in sorted(_reachable(flow) - finishing):
        yield FlowError(f"nodes.{node_id}", "no path from here reaches a queue, transfer or hangup: add one")


def _meaning_errors(flow: Flow, catalogue: FlowCatalogue) -> Iterator[FlowError]:
    if flow.start not in flow.nodes:
        yield FlowError("start", f"node '{flow.start}' does not exist; name one of: {', '.join(flow.nodes)}")
    yield from _prompt_errors(flow, catalogue.audio)
    for node_id, node in flow.nodes.items():
        yield from _node_errors(flow, node_id, node, catalogue)
    yield from _loop_errors(flow)
    yield from _dead_end_errors(flow)


def _shape_error(err: ErrorDetails) -> FlowError:
    loc = [str(p) for p in err["loc"] if p != "[key]"]
    problem = err["msg"]
    if loc[:1] == ["nodes"] and len(loc) > 2 and loc[2] in NODE_TYPES:
        del loc[2]  # pydantic puts the node's type tag into the location: nodes.x.menu.options
    if loc[:1] == ["prompts"] and len(loc) > 2:
        # A prompt is text or a recording: report one error, not one per kind it is not.
        loc = loc[:2] + (["audio"] if loc[2] == "AudioPrompt" and loc[3:] == ["audio"] else [])
        if loc[-1] != "audio":
            problem = "a prompt is Chinese text of 1 to 500 characters, or {audio: NAME} for an uploaded recording"
    if err["type"] == "union_tag_invalid":
        problem = f"unknown node type; use one of: {', '.join(NODE_TYPES)}"
    elif err["type"] == "union_tag_not_found":
        problem = f"every node needs a type: one of {', '.join(NODE_TYPES)}"
    return FlowError(".".join(loc) or "flow", problem)


def _shape_errors(exc: ValidationError) -> list[FlowError]:
    raw = exc.errors()
    # A prompt written as a mapping failed as a recording, not as text: only that error counts.
    recordings = {
        tuple(e["loc"][:2])
        for e in raw
        if e["loc"][:1] == ("prompts",)
        and isinstance(e["input"], dict)
        and len(e["loc"]) > 2
        and e["loc"][2] != "AudioPrompt"
    }
    errors: list[FlowError] = []
    for err in raw:
        loc = tuple(err["loc"])
        is_text_error = len(loc) > 2 and loc[2] != "AudioPrompt"
        text_given = loc[:2] not in recordings
        if loc[:1] == ("prompts",) and len(loc) > 2 and is_text_error != text_given:
            continue
        error = _shape_error(err)
        if error not in errors:
            errors.append(error)
    return errors


def parse_flow(data: object, catalogue: FlowCatalogue) -> Flow:
    """Checks shape then meaning; raises InvalidFlow naming each node and field at fault."""
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise InvalidFlow(_shape_errors(exc)) from None
    errors = list(_meaning_errors(flow, catalogue))
    if errors:
        raise InvalidFlow(errors)
    return flow


def parse_flow_text(text: str, catalogue: FlowCatalogue, where: str = "flow") -> Flow:
    """A flow from its YAML source (what admins edit and versions store): plain data, no anchors or aliases."""
    try:
        data = load_plain_yaml(text)
    except NestedTooDeep:
        raise FlowTooDeep([FlowError(where, f"nested more than {MAX_DEPTH} levels deep: flows need a few")]) from None
    except yaml.YAMLError as exc:
        raise InvalidFlow([FlowError(where, f"not valid YAML: {exc}")]) from None
    return parse_flow(data, catalogue)


def load_flow(path: Path, catalogue: FlowCatalogue) -> Flow:
    return parse_flow_text(path.read_text(encoding="utf-8"), catalogue, str(path))
