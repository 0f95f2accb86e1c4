"""One call on the FastAGI server: run the IVR flow, then hand the decision to the dialplan."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable

from asterisk.agi import AGIException

from agi.channel import SocketAGI
from ivr.engine import CallFacts, Decision, Play, VoiceMessage, run_flow
from ivr.flow import Flow

log = logging.getLogger(__name__)

PROMPT_DIR = "hotline"
# Opens a voice-message stream for (call uniqueid, caller): the dial string of an AudioSocket channel
# to our speech server, or None when speech is not available.
OpenVoiceMessage = Callable[[str, str], str | None]
MESSAGE_MARGIN_SECONDS = 30  # after a voice message: its closing prompt and the handover


def decision_variables(decision: Decision) -> list[tuple[str, str]]:
    """Channel variables the dialplan acts on. HOTLINE_ACTION comes last: the dialplan treats a
    call whose AGI died before setting it as undecided and sends it to the default queue."""
    return [
        ("HOTLINE_QUEUE", decision.queue),
        ("HOTLINE_PRIORITY", str(decision.priority)),
        ("HOTLINE_TARGET", decision.target),
        ("HOTLINE_LANG", decision.language),
        ("HOTLINE_IVR_PATH", ">".join(decision.path)),
        ("HOTLINE_ACTION", decision.action),
    ]


class CallSession:
    """Handles one FastAGI connection; built once, called from many worker threads."""

    def __init__(
        self,
        current_flow: Callable[[], Flow],
        is_barred: Callable[[str], bool],
        call_seconds: float,
        longest_wait: Callable[[], float] = lambda: 0.0,
        voice_message: OpenVoiceMessage = lambda _call, _caller: None,
        message_seconds: float = 60.0,
    ):
        self._current_flow = current_flow
        self._is_barred = is_barred
        self._call_seconds = call_seconds
        self._longest_wait = longest_wait
        self._voice_message = voice_message
        self._message_seconds = message_seconds

    def _barred(self, uniqueid: str, caller: str) -> bool:
        # Fail open: a database fault must not turn a caller away.
        try:
            return bool(caller) and self._is_barred(caller)
        except Exception:
            log.exception("call %s: barred-caller check failed; treating %s as not barred", uniqueid, caller)
            return False

    def __call__(self, sock: socket.socket, reader: io.BufferedReader, env: dict[str, str]) -> str:
        """Runs the call's IVR; returns the outcome: decided, ended_in_ivr or handover_failed."""
        uniqueid = env["agi_uniqueid"]
        caller = env.get("agi_callerid", "")
        caller = "" if caller in ("unknown", "<unknown>") else caller
        agi = SocketAGI(sock, reader, env, deadline=time.monotonic() + self._call_seconds)
        flow = self._current_flow()  # the flow a call starts with is the one it finishes with
        facts = CallFacts(caller=caller, barred=self._barred(uniqueid, caller), longest_wait_seconds=self._longest_wait())
        steps = run_flow(flow, facts)
        try:
            step = next(steps)
            while True:
                if isinstance(step, Play):
                    pressed = agi.stream_file(f"{PROMPT_DIR}/{step.prompt}", step.escape_digits)
                    step = steps.send(pressed or "")
                else:
                    step = steps.send(self._record_message(agi, step, uniqueid, caller))
        except StopIteration as done:
            decision: Decision = done.value
        except (AGIException, OSError) as exc:
            log.info("call %s from %s ended in the IVR: %s", uniqueid, caller or "-", exc)
            return "ended_in_ivr"
        try:
            for name, value in decision_variables(decision):
                agi.set_variable(name, value)
        except (AGIException, OSError) as exc:
            log.warning("call %s: could not hand over the decision (%s); dialplan falls back", uniqueid, exc)
            return "handover_failed"
        log.info(
            "call %s from %s: %s %s path=%s",
            uniqueid, caller or "-", decision.action, decision.queue or decision.target, ">".join(decision.path),
        )
        return "decided"

    def _record_message(self, agi: SocketAGI, step: VoiceMessage, uniqueid: str, caller: str) -> bool:
        """Plays the prompt and a tone, then bridges the caller to an AudioSocket stream to our speech
        server, which ends it; False (the flow goes on without a message) if no stream could be made."""
        agi.stream_file(f"{PROMPT_DIR}/{step.prompt}", "")
        dial = self._voice_message(uniqueid, caller)
        if dial is None:
            log.warning("call %s: speech is unavailable, no voice message", uniqueid)
            return False
        # The message may outlast the IVR budget: give the dialplan's watchdog and our deadline its length.
        agi.extend_deadline(self._message_seconds + MESSAGE_MARGIN_SECONDS)
        agi.set_variable("TIMEOUT(absolute)", str(int(self._message_seconds + MESSAGE_MARGIN_SECONDS)))
        agi.stream_file("beep", "")
        agi.exec_command("Dial", dial, "5", "g")  # g: the caller goes on once our server ends the message
        status = agi.get_variable("DIALSTATUS")
        log.info("call %s: voice message %s", uniqueid, "recorded" if status == "ANSWER" else f"not recorded ({status})")
        return status == "ANSWER"
