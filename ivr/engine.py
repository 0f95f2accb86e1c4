"""Runs a validated flow for one call, as a generator: it yields what the call should do next (play
a prompt, collect digits, say a generated sentence, record a voice message, book a callback, look
something up) and receives the result, and it returns the routing decision. Pure: no I/O, so the
FastAGI session and the simulator drive the same code."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from domain.callbacks import callable_number
from domain.tickets import SHANGHAI
from ivr.flow import (
    CallbackOfferNode,
    CollectDigitsNode,
    ConditionNode,
    Flow,
    HangupNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SpeechMessageNode,
    TicketStatusNode,
    TransferNode,
)

TICKET_NUMBER_DIGITS = 13  # YYYYMMDD + the day's sequence (domain.tickets.ticket_number)
ALL_KEYS = "0123456789*#"  # a menu hears every key, so a wrong one is told at once, not after the timeout
MAX_NODE_VISITS = 100  # a caller pressing keys round a menu loop for ever ends in the default queue


@dataclass(frozen=True)
class CallFacts:
    caller: str
    barred: bool
    now: datetime  # timezone-aware
    longest_wait_seconds: float = 0.0  # the longest current wait in the queues


@dataclass(frozen=True)
class QueueStatus:
    waiting: int  # callers already waiting
    expected_seconds: int  # the queue's recent average wait


# --- steps the flow asks the call to take ----------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play the prompt; send back the key pressed ("" for none), listening `wait_seconds` more."""

    prompt: str
    escape_digits: str = ""
    wait_seconds: int = 0


@dataclass(frozen=True)
class Collect:
    """Play the prompt and collect up to `max_digits` keys (# ends early); send back the digits."""

    prompt: str
    max_digits: int
    timeout_seconds: int


@dataclass(frozen=True)
class Say:
    """Speak a sentence made during the call (a ticket's status, the queue position)."""

    text: str


@dataclass(frozen=True)
class VoiceMessage:
    """Play the prompt, then record a voice message; send back whether it was recorded."""

    prompt: str


@dataclass(frozen=True)
class BookCallback:
    """Keep the caller's place in `queue` and call `number` back when an agent takes it; send back
    whether it was booked."""

    number: str
    queue: str
    priority: int


@dataclass(frozen=True)
class RecentCalls:
    """Send back how many times the caller called in the last `days` days."""

    days: int


@dataclass(frozen=True)
class TicketLookup:
    """Send back the status (in Chinese) of the ticket with this number, or None."""

    number: str


@dataclass(frozen=True)
class QueueLookup:
    """Send back the QueueStatus of the queue."""

    queue: str


@dataclass(frozen=True)
class WorkingDayLookup:
    """Send back whether the day is a working day in the centre's working calendar."""

    day: date


Step = Play | Collect | Say | VoiceMessage | BookCallback | RecentCalls | TicketLookup | QueueLookup | WorkingDayLookup


@dataclass(frozen=True)
class Decision:
    action: str  # "queue" | "transfer" | "hangup" | "fallback" (the dialplan's default queue)
    path: tuple[str, ...]
    queue: str = ""
    priority: int = 0
    target: str = ""
    language: str = "zh"


@dataclass
class _Call:
    facts: CallFacts
    language: str
    variables: dict[str, str] = field(default_factory=dict)


# --- sentences ------------------------------------------------------------------------------


def ticket_status_text(number: str, status: str) -> str:
    return f"工单号 {' '.join(number)}，当前状态：{status}。"


def queue_announcement(status: QueueStatus, position: bool, wait: bool) -> str:
    parts = []
    if position:
        parts.append(f"您前面还有{status.waiting}位来电。" if status.waiting else "您是下一位。")
    if wait:
        minutes = round(status.expected_seconds / 60)
        parts.append(f"预计等待约{minutes}分钟。" if minutes >= 1 else "预计等待不到一分钟。")
    return "".join(parts)


# --- conditions -----------------------------------------------------------------------------


def _within(moment: datetime, between: tuple[str, str]) -> bool:
    start, end = (time.fromisoformat(t) for t in between)
    now = moment.astimezone(SHANGHAI).time()
    return start <= now < end if start <= end else now >= start or now < end


def _is_holiday(moment: datetime, closed_dates: tuple[date, ...]) -> Generator[Step, object, bool]:
    """Not a working day in the centre's calendar, or one of the node's own closed dates."""
    day = moment.astimezone(SHANGHAI).date()
    if day in closed_dates:
        return True
    working = yield WorkingDayLookup(day)
    return not working


def _condition(node: ConditionNode, call: _Call) -> Generator[Step, object, bool]:
    facts = call.facts
    match node.test:
        case "barred_caller":
            return facts.barred
        case "long_wait":
            return facts.longest_wait_seconds >= node.wait_seconds
        case "time_of_day":
            assert node.between is not None
            return _within(facts.now, node.between)
        case "holiday":
            return (yield from _is_holiday(facts.now, node.closed_dates))
        case "repeat_caller":
            if callable_number(facts.caller) is None:  # withheld: all such callers are not one caller
                return False
            calls = yield RecentCalls(node.repeat_days)
            return isinstance(calls, int) and calls >= node.repeat_calls
        case _:
            return call.language == node.language


# --- nodes that listen ----------------------------------------------------------------------


def _menu(node: MenuNode, call: _Call) -> Generator[Step, object, str]:
    for attempt in range(node.retries + 1):
        key = yield Play(node.prompt, ALL_KEYS, node.timeout_seconds)
        if key in node.options:
            call.language = node.languages.get(str(key), call.language)
            return node.options[str(key)]
        if node.invalid_prompt and attempt < node.retries:
            yield Play(node.invalid_prompt)
    return node.fallback


def _digits(
    prompt: str, invalid_prompt: str | None, retries: int, min_digits: int, max_digits: int, timeout: int
) -> Generator[Step, object, str | None]:
    for attempt in range(retries + 1):
        digits = str((yield Collect(prompt, max_digits, timeout)) or "")
        if digits.isdigit() and min_digits <= len(digits) <= max_digits:
            return digits
        if invalid_prompt and attempt < retries:
            yield Play(invalid_prompt)
    return None


def _collect(node: CollectDigitsNode, call: _Call) -> Generator[Step, object, str]:
    digits = yield from _digits(
        node.prompt, node.invalid_prompt, node.retries, node.min_digits, node.max_digits, node.timeout_seconds
    )
    if digits is None:
        return node.failed
    call.variables[node.into] = digits
    return node.next


def _ticket_status(node: TicketStatusNode) -> Generator[Step, object, str]:
    number = yield from _digits(
        node.prompt, node.invalid_prompt, node.retries, TICKET_NUMBER_DIGITS, TICKET_NUMBER_DIGITS, node.timeout_seconds
    )
    if number is None:
        return node.failed
    status = yield TicketLookup(number)
    if status is None:
        return node.not_found
    yield Say(ticket_status_text(number, str(status)))
    return node.next


def _callback_offer(node: CallbackOfferNode, call: _Call) -> Generator[Step, object, str]:
    key = yield Play(node.prompt, node.accept_key, node.timeout_seconds)
    if key != node.accept_key:
        return node.declined
    raw = call.facts.caller if node.number_from == "caller_id" else call.variables.get(node.number_from, "")
    number = callable_number(raw)
    if number is None:
        return node.failed
    booked = yield BookCallback(number, node.queue, node.priority)
    return node.accepted if booked else node.failed


# --- the flow -------------------------------------------------------------------------------


def run_flow(flow: Flow, facts: CallFacts) -> Generator[Step, object, Decision]:
    call = _Call(facts, flow.language)
    node_id = flow.start
    path: list[str] = []
    while len(path) < MAX_NODE_VISITS:
        path.append(node_id)
        node = flow.nodes[node_id]
        match node:
            case PlayNode():
                pressed = yield Play(node.prompt, "".join(node.keys))
                node_id = node.keys.get(str(pressed), node.next)
            case MenuNode():
                node_id = yield from _menu(node, call)
            case CollectDigitsNode():
                node_id = yield from _collect(node, call)
            case ConditionNode():
                node_id = node.then if (yield from _condition(node, call)) else node.otherwise
            case SpeechMessageNode():
                node_id = node.next if (yield VoiceMessage(node.prompt)) else node.failed
            case TicketStatusNode():
                node_id = yield from _ticket_status(node)
            case CallbackOfferNode():
                node_id = yield from _callback_offer(node, call)
            case QueueNode():
                if node.announce_position or node.announce_wait:
                    status = yield QueueLookup(node.queue)
                    assert isinstance(status, QueueStatus)
                    yield Say(queue_announcement(status, node.announce_position, node.announce_wait))
                return Decision("queue", tuple(path), queue=node.queue, priority=node.priority, language=call.language)
            case TransferNode():
                return Decision("transfer", tuple(path), target=node.target, language=call.language)
            case _:
                assert isinstance(node, HangupNode)
                return Decision("hangup", tuple(path), language=call.language)
    return Decision("fallback", tuple(path), language=call.language)
