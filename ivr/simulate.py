"""A dry run of a flow: given keys, time, caller and what the call would find, the path it takes
and what the caller hears, without Asterisk (`hotline ivr simulate`, POST /admin/ivr/simulate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.calendar import WorkingCalendar
from ivr.engine import (
    BookCallback,
    CallFacts,
    Collect,
    Decision,
    Play,
    QueueLookup,
    QueueStatus,
    RecentCalls,
    Say,
    Step,
    TicketLookup,
    VoiceMessage,
    WorkingDayLookup,
    run_flow,
)
from ivr.flow import Flow

NO_INPUT = "-"


@dataclass(frozen=True)
class World:
    """What the simulated call finds outside the flow."""

    tickets: Mapping[str, str] = field(default_factory=dict)  # ticket number -> status as told
    recent_calls: int = 0
    queue: QueueStatus = QueueStatus(waiting=0, expected_seconds=0)
    callback_booked: bool = True
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)  # the centre's; empty: weekends off


@dataclass(frozen=True)
class Simulation:
    decision: Decision
    events: tuple[str, ...]  # what happened on the call, in order
    inputs_left: tuple[str, ...]  # inputs the flow never listened for


class _Caller:
    """Hands out the inputs one per listening point: a key, digits, or '-' for none."""

    def __init__(self, inputs: Sequence[str]):
        self._inputs = list(inputs)

    def next(self) -> str:
        value = self._inputs.pop(0) if self._inputs else NO_INPUT
        return "" if value == NO_INPUT else value

    def left(self) -> tuple[str, ...]:
        return tuple(self._inputs)


def _answer(step: Step, caller: _Caller, world: World, events: list[str]) -> object:
    match step:
        case Play(escape_digits=""):
            events.append(f"play {step.prompt}")
            return ""
        case Play():
            key = caller.next()
            pressed = key if len(key) == 1 and key in step.escape_digits else ""
            events.append(
                f"play {step.prompt}, key {pressed or 'none'}" + (f" (ignored {key})" if key != pressed else "")
            )
            return pressed
        case Collect():
            digits = caller.next()
            events.append(f"ask {step.prompt}, keyed {digits or 'nothing'}")
            return digits
        case Say():
            events.append(f"say {step.text}")
            return None
        case VoiceMessage():
            recorded = caller.next() != ""
            events.append(f"voice message after {step.prompt}: {'recorded' if recorded else 'none'}")
            return recorded
        case BookCallback():
            events.append(
                f"callback for {step.number} keeps a place in {step.queue}: "
                f"{'booked' if world.callback_booked else 'failed'}"
            )
            return world.callback_booked
        case RecentCalls():
            events.append(f"calls in the last {step.days} days: {world.recent_calls}")
            return world.recent_calls
        case TicketLookup():
            status = world.tickets.get(step.number)
            events.append(f"ticket {step.number}: {status or 'not found'}")
            return status
        case QueueLookup():
            events.append(f"queue {step.queue}: {world.queue.waiting} waiting, about {world.queue.expected_seconds} s")
            return world.queue
        case WorkingDayLookup():
            working = world.calendar.is_workday(step.day)
            state = world.calendar.state(step.day.year)
            events.append(f"{step.day} is {'a working day' if working else 'a day off'} ({state} calendar)")
            return working
    raise TypeError(f"unknown IVR step {step!r}")


def simulate(flow: Flow, facts: CallFacts, inputs: Sequence[str], world: World = World()) -> Simulation:
    caller = _Caller(inputs)
    events: list[str] = []
    steps = run_flow(flow, facts)
    try:
        step = next(steps)
        while True:
            step = steps.send(_answer(step, caller, world, events))
    except StopIteration as done:
        return Simulation(done.value, tuple(events), caller.left())


def describe(decision: Decision) -> str:
    where = {
        "queue": f"queue {decision.queue} (priority {decision.priority})",
        "transfer": f"transfer to {decision.target}",
        "hangup": "hang up",
        "fallback": "the default queue (too many steps)",
    }[decision.action]
    return f"{where}, language {decision.language}; path {' > '.join(decision.path)}"
