"""One call on the FastAGI server: run the IVR flow, then hand the decision to the dialplan."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from asterisk.agi import AGIException

from agi import metrics
from agi.channel import SocketAGI
from domain.dialplan_names import Context, Var
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

log = logging.getLogger(__name__)

# Opens a voice-message stream for (call uniqueid, caller): the dial string of an AudioSocket channel
# to our speech server, or None when speech is not available.
OpenVoiceMessage = Callable[[str, str], str | None]
# Stores a callback task for (call uniqueid, number, queue): its id.
BookCallbackTask = Callable[[str, str, str], int]
MESSAGE_MARGIN_SECONDS = 30  # after a voice message: its closing prompt and the handover


@dataclass(frozen=True)
class RunningFlow:
    """A flow version as calls run it: the sound file to play for each of its prompts."""

    version: int
    flow: Flow
    sounds: Mapping[str, str]


@dataclass(frozen=True)
class CallServices:
    """What the IVR needs beyond the call's channel. The session treats a failing service as
    "no answer" (logged), so a database or speech fault never drops a call."""

    is_barred: Callable[[str], bool]
    longest_wait: Callable[[], float] = lambda: 0.0
    voice_message: OpenVoiceMessage = lambda _call, _caller: None
    speak: Callable[[str], str] | None = None  # a sentence -> the sound file saying it
    ticket_status: Callable[[str], str | None] = lambda _number: None
    recent_calls: Callable[[str, int], int] = lambda _caller, _days: 0
    book_callback: BookCallbackTask | None = None
    is_workday: Callable[[date], bool] = lambda day: day.weekday() < 5  # the centre's working calendar
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class CallLimits:
    call_seconds: float  # the IVR's budget (the dialplan's watchdog matches it)
    message_seconds: float = 60.0
    callback_hold_seconds: int = 3600  # how long a kept place waits in the queue for an agent
    ring_seconds: int = 30  # how long a callback rings the caller


def decision_variables(decision: Decision, version: int) -> list[tuple[str, str]]:
    """Channel variables the dialplan acts on. HOTLINE_ACTION comes last: the dialplan treats a
    call whose AGI died before setting it as undecided and sends it to the default queue."""
    return [
        (Var.QUEUE, decision.queue),
        (Var.PRIORITY, str(decision.priority)),
        (Var.TARGET, decision.target),
        (Var.IVR_PATH, ">".join(decision.path)),
        (Var.IVR_VERSION, str(version)),
        (Var.ACTION, decision.action),
    ]


def _int(value: str) -> int:
    return int(value) if value.strip().isdigit() else 0


class CallSession:
    """Handles one FastAGI connection; built once, called from many worker threads."""

    def __init__(self, current_flow: Callable[[], RunningFlow], services: CallServices, limits: CallLimits):
        self._current_flow = current_flow
        self._services = services
        self._limits = limits

    def _safely(self, uniqueid: str, what: str, default, fn: Callable[[], object]):
        try:
            return fn()
        except Exception:
            log.exception("call %s: %s failed; going on without it", uniqueid, what)
            metrics.IVR_SERVICE_FAILURES.labels(what).inc()
            return default

    def __call__(self, sock: socket.socket, reader: io.BufferedReader, env: dict[str, str]) -> str:
        """Runs the call's IVR; returns the outcome: decided, ended_in_ivr or handover_failed."""
        uniqueid = env["agi_uniqueid"]
        caller = env.get("agi_callerid", "")
        caller = "" if caller in ("unknown", "<unknown>") else caller
        agi = SocketAGI(sock, reader, env, deadline=time.monotonic() + self._limits.call_seconds)
        running = self._current_flow()  # the version a call starts with is the one it finishes with
        services = self._services
        facts = CallFacts(
            caller=caller,
            barred=bool(caller)
            and self._safely(uniqueid, "barred-caller check", False, lambda: services.is_barred(caller)),
            now=services.clock(),
            longest_wait_seconds=self._safely(uniqueid, "queue wait", 0.0, services.longest_wait),
        )
        steps = run_flow(running.flow, facts)
        try:
            step = next(steps)
            while True:
                step = steps.send(self._take(agi, running, step, uniqueid, caller))
        except StopIteration as done:
            decision: Decision = done.value
        except (AGIException, OSError) as exc:
            log.info("call %s from %s ended in the IVR: %s", uniqueid, caller or "-", exc)
            return "ended_in_ivr"
        try:
            for name, value in decision_variables(decision, running.version):
                agi.set_variable(name, value)
        except (AGIException, OSError) as exc:
            log.warning("call %s: could not hand over the decision (%s); dialplan falls back", uniqueid, exc)
            return "handover_failed"
        log.info(
            "call %s from %s: %s %s path=%s version=%d",
            uniqueid,
            caller or "-",
            decision.action,
            decision.queue or decision.target,
            ">".join(decision.path),
            running.version,
        )
        return "decided"

    def _take(self, agi: SocketAGI, running: RunningFlow, step: Step, uniqueid: str, caller: str) -> object:
        """Does what the flow asked for on the channel; returns what the flow is to be told."""
        services = self._services
        match step:
            case Play():
                sound = running.sounds[step.prompt]
                if step.wait_seconds:
                    return agi.get_option(sound, step.escape_digits, step.wait_seconds * 1000) or ""
                return agi.stream_file(sound, step.escape_digits) or ""
            case Collect():
                return agi.get_data(running.sounds[step.prompt], step.timeout_seconds * 1000, step.max_digits) or ""
            case Say():
                speak = services.speak
                spoken = speak and self._safely(uniqueid, "speaking a sentence", None, lambda: speak(step.text))
                if spoken:
                    agi.stream_file(spoken, "")
                return None
            case VoiceMessage():
                return self._record_message(agi, running.sounds[step.prompt], uniqueid, caller)
            case BookCallback():
                return self._book_callback(agi, step, uniqueid)
            case RecentCalls():
                return self._safely(
                    uniqueid, "repeat-caller count", 0, lambda: services.recent_calls(caller, step.days)
                )
            case TicketLookup():
                return self._safely(uniqueid, "ticket lookup", None, lambda: services.ticket_status(step.number))
            case QueueLookup():
                return self._queue_status(agi, step.queue)
            case WorkingDayLookup():  # the calendar unreadable: weekends off, as a provisional year
                weekday = step.day.weekday() < 5
                return self._safely(uniqueid, "working-calendar lookup", weekday, lambda: services.is_workday(step.day))
        raise TypeError(f"unknown IVR step {step!r}")

    @staticmethod
    def _queue_status(agi: SocketAGI, queue: str) -> QueueStatus:
        waiting = _int(agi.get_full_variable(f"${{QUEUE_WAITING_COUNT({queue})}}") or "")
        agi.exec_command("Set", f"QV=${{QUEUE_VARIABLES({queue})}}")  # sets QUEUEHOLDTIME, the average wait
        return QueueStatus(waiting=waiting, expected_seconds=_int(agi.get_variable("QUEUEHOLDTIME") or ""))

    def _book_callback(self, agi: SocketAGI, step: BookCallback, uniqueid: str) -> bool:
        """Stores the callback task, then has Asterisk put a stand-in for the caller into the queue
        (hotline-callback-place): when an agent answers it, Asterisk calls the caller back."""
        book = self._services.book_callback
        if book is None:
            return False
        task_id = self._safely(uniqueid, "booking a callback", None, lambda: book(uniqueid, step.number, step.queue))
        if task_id is None:
            return False
        limits = self._limits
        variables = "^".join(
            (
                f"{Var.CALLBACK_ID}={task_id}",
                f"{Var.RING_SECONDS}={limits.ring_seconds}",
                f"{Var.CALLBACK_NUMBER}={step.number}",
                f"{Var.CALLBACK_QUEUE}={step.queue}",
                f"{Var.CALLBACK_PRIORITY}={step.priority}",
                f"{Var.CALLBACK_CALL}={uniqueid}",
            )
        )
        agi.exec_command(
            "Originate",
            f"Local/s@{Context.CALLBACK_PLACE}/n",
            "exten",
            Context.CALLBACK,
            step.number,
            "1",
            str(limits.callback_hold_seconds),
            f"av({variables})",
        )
        status = agi.get_variable("ORIGINATE_STATUS")
        log.info(
            "call %s: callback %s for %s keeps a place in %s (%s)", uniqueid, task_id, step.number, step.queue, status
        )
        return status not in ("FAILED", "CONGESTION", "HANGUP")

    def _record_message(self, agi: SocketAGI, prompt_sound: str, uniqueid: str, caller: str) -> bool:
        """Plays the prompt and a tone, then bridges the caller to an AudioSocket stream to our speech
        server, which ends it; False (the flow goes on without a message) if no stream could be made."""
        agi.stream_file(prompt_sound, "")
        dial = self._services.voice_message(uniqueid, caller)
        if dial is None:
            log.warning("call %s: speech is unavailable, no voice message", uniqueid)
            return False
        # The message may outlast the IVR budget: give the dialplan's watchdog and our deadline its length.
        extra = self._limits.message_seconds + MESSAGE_MARGIN_SECONDS
        agi.extend_deadline(extra)
        agi.set_variable("TIMEOUT(absolute)", str(int(extra)))
        agi.stream_file("beep", "")
        agi.exec_command("Dial", dial, "5", "g")  # g: the caller goes on once our server ends the message
        status = agi.get_variable("DIALSTATUS")
        log.info(
            "call %s: voice message %s", uniqueid, "recorded" if status == "ANSWER" else f"not recorded ({status})"
        )
        return status == "ANSWER"
