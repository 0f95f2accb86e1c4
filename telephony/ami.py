"""AMI over panoramisk: one connection, events handed to a queue one task consumes, one small
function per action and one error type.

panoramisk loses exceptions raised in event callbacks, so callbacks only enqueue; and it drops the
connection on a "successfully queued" reply without an Async key, so such actions send
`Async: false`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from panoramisk import Manager

from domain.errors import Conflict, Unavailable

log = logging.getLogger(__name__)

IGNORED_EVENTS = frozenset({"TestEvent", "VarSet", "Newexten", "RTCPSent", "RTCPReceived"})


class AmiError(Conflict):
    """An AMI action failed, or AMI is not reachable. Refused by Asterisk, it is a conflict: the
    call changed under us (hung up, moved) between our check and Asterisk acting on it."""

    code = "asterisk_refused"


class AmiUnavailable(AmiError, Unavailable):
    """AMI is not connected, or Asterisk did not answer in time."""

    code = "asterisk_unreachable"


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, reconnect_seconds: int = 1):
        self._subscribers: list[asyncio.Queue[Mapping[str, str]]] = []
        self.logged_in = asyncio.Event()
        self._manager = Manager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            ping_delay=5,
            ping_interval=5,
            reconnect_timeout=reconnect_seconds,
            loop=asyncio.get_running_loop(),
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
            log=log,
        )
        self._manager.register_event("*", self._enqueue)

    def _on_login(self, _manager: Manager) -> None:
        log.info("AMI logged in")
        self.logged_in.set()
        self._emit({"Event": "HotlineAmiConnected"})

    def _on_disconnect(self, _manager: Manager, exc: Exception | None) -> None:
        log.warning("AMI connection lost: %s", exc)
        if self.logged_in.is_set():
            self._emit({"Event": "HotlineAmiDisconnected"})
        self.logged_in.clear()

    def subscribe(self) -> asyncio.Queue[Mapping[str, str]]:
        """A queue that receives every AMI event from now on, plus HotlineAmiConnected and
        HotlineAmiDisconnected when the connection comes and goes."""
        queue: asyncio.Queue[Mapping[str, str]] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def _emit(self, event: Mapping[str, str]) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _enqueue(self, _manager: Manager, event: Mapping[str, str]) -> None:
        if event.get("Event") not in IGNORED_EVENTS:
            self._emit(event)

    async def connect(self, timeout: float = 10.0) -> None:
        self._manager.connect()
        try:
            await asyncio.wait_for(self.logged_in.wait(), timeout)
        except TimeoutError:
            raise AmiError(
                f"AMI login to {self._manager.config['host']}:{self._manager.config['port']} failed"
            ) from None

    def close(self) -> None:
        self._manager.close()

    @property
    def connected(self) -> bool:
        return self.logged_in.is_set()

    async def _send(self, action: Mapping[str, str], as_list: bool | None, timeout: float):
        if not self.logged_in.is_set():
            raise AmiUnavailable("Asterisk is not reachable over AMI: call control is unavailable until it is back")
        try:
            return await asyncio.wait_for(self._manager.send_action(dict(action), as_list=as_list), timeout)
        except TimeoutError:
            raise AmiUnavailable(f"Asterisk did not answer AMI {action['Action']} within {timeout:.0f} s") from None

    async def action(self, action: Mapping[str, str], timeout: float = 10.0) -> Mapping[str, str]:
        reply = await self._send(action, False, timeout)
        if reply.get("Response") == "Error":
            raise AmiError(f"AMI {action['Action']} failed: {reply.get('Message', 'no message')}")
        return reply

    async def action_list(self, action: Mapping[str, str], timeout: float = 10.0) -> list[Mapping[str, str]]:
        """An action answered by a list of events (QueueStatus, ConfbridgeList …): its events.

        Sent with as_list=None, not True: panoramisk then takes a list when the first reply says
        `EventList: start`, and a lone `Response: Error` completes the action. With as_list=True an
        error reply never completes it, and the caller waits out its whole timeout ("did not
        answer within 10 s") — which is what a QueueStatus sent while Asterisk boots meets: AMI
        accepts logins before app_queue is loaded and answers "Invalid/unknown command"."""
        replies = await self._send(action, None, timeout)
        if not isinstance(replies, list):
            replies = [replies]
        if replies and replies[0].get("Response") == "Error":
            message = replies[0].get("Message", "no message")
            if "No active conferences" in message or "No Conference by that name" in message:
                return []
            raise AmiError(f"AMI {action['Action']} failed: {message}")
        return [r for r in replies if "Event" in r]

    async def originate_local(
        self, exten: str, context: str, caller_context: str, caller_id: str, variables: Mapping[str, str]
    ) -> Mapping[str, str]:
        """Places a call with no phone: Local/<exten>@<context>, whose ;1 half runs <caller_context>."""
        return await self.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{exten}@{context}",
                "Context": caller_context,
                "Exten": "s",
                "Priority": "1",
                "CallerID": caller_id,
                "Async": "true",
                "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
            }
        )

    async def play_dtmf(self, channel: str, digit: str) -> None:
        await self.action(
            {"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "120", "Async": "false"}
        )

    async def hangup(self, channel: str) -> None:
        await self.action({"Action": "Hangup", "Channel": channel})

    async def setvar(self, channel: str, name: str, value: str) -> None:
        await self.action({"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value})

    async def redirect(self, channel: str, context: str, exten: str, extra: tuple[str, str, str] | None = None) -> None:
        """Moves `channel` (and optionally extra = (channel, context, exten)) to priority 1."""
        action = {"Action": "Redirect", "Channel": channel, "Context": context, "Exten": exten, "Priority": "1"}
        if extra is not None:
            action |= {"ExtraChannel": extra[0], "ExtraContext": extra[1], "ExtraExten": extra[2], "ExtraPriority": "1"}
        await self.action(action)

    async def bridge(self, channel1: str, channel2: str) -> None:
        await self.action({"Action": "Bridge", "Channel1": channel1, "Channel2": channel2, "Tone": "no"})

    async def blind_transfer(self, channel: str, context: str, exten: str) -> None:
        """Asterisk's own blind transfer: `channel`'s bridge peer goes to exten@context."""
        await self.action({"Action": "BlindTransfer", "Channel": channel, "Context": context, "Exten": exten})

    async def originate(
        self,
        channel: str,
        context: str,
        exten: str,
        ring_seconds: int,
        caller_id: str,
        variables: Mapping[str, str],
        action_id: str,
    ) -> None:
        """Rings `channel`; answered, it runs exten@context. The outcome arrives later as an
        OriginateResponse event carrying `action_id`."""
        await self.action(
            {
                "Action": "Originate",
                "Channel": channel,
                "Context": context,
                "Exten": exten,
                "Priority": "1",
                "Timeout": str(ring_seconds * 1000),
                "CallerID": caller_id,
                "Async": "true",
                "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
                "ActionID": action_id,
            }
        )

    async def originate_application(self, channel: str, application: str, data: str, caller_id: str) -> None:
        """Starts `channel` running one application; the outcome arrives as an OriginateResponse."""
        await self.action(
            {
                "Action": "Originate",
                "Channel": channel,
                "Application": application,
                "Data": data,
                "CallerID": caller_id,
                "Async": "true",
            }
        )

    async def queue_change_priority(self, queue: str, channel: str, priority: int) -> None:
        """Moves a waiting caller to the place its new priority earns, at once."""
        await self.action(
            {
                "Action": "QueueChangePriorityCaller",
                "Queue": queue,
                "Caller": channel,
                "Priority": str(priority),
                "Immediate": "yes",
            }
        )

    async def queue_add(self, queue: str, interface: str, member_name: str, penalty: int) -> None:
        await self.action(
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": interface,
                "Penalty": str(penalty),
                "Paused": "false",
                "MemberName": member_name,
                "StateInterface": interface,
            }
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self.action({"Action": "QueueRemove", "Queue": queue, "Interface": interface})

    async def queue_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """Pauses or resumes the member in every queue it belongs to."""
        action = {"Action": "QueuePause", "Interface": interface, "Paused": "true" if paused else "false"}
        if reason:
            action["Reason"] = reason
        await self.action(action)

    async def queue_status(self) -> list[Mapping[str, str]]:
        """QueueParams, QueueMember and QueueEntry events for every queue."""
        return await self.action_list({"Action": "QueueStatus"})

    async def confbridge_list(self, conference: str) -> list[Mapping[str, str]]:
        return await self.action_list({"Action": "ConfbridgeList", "Conference": conference})

    async def confbridge_kick(self, conference: str, channel: str) -> None:
        await self.action({"Action": "ConfbridgeKick", "Conference": conference, "Channel": channel})
