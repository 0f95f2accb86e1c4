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

log = logging.getLogger(__name__)

IGNORED_EVENTS = frozenset({"TestEvent", "VarSet", "Newexten", "RTCPSent", "RTCPReceived"})


class AmiError(RuntimeError):
    """An AMI action failed, or AMI is not reachable."""


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, reconnect_seconds: int = 1):
        self.events: asyncio.Queue[Mapping[str, str]] = asyncio.Queue()
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
        self.events.put_nowait({"Event": "HotlineAmiConnected"})

    def _on_disconnect(self, _manager: Manager, exc: Exception | None) -> None:
        log.warning("AMI connection lost: %s", exc)
        self.logged_in.clear()

    def _enqueue(self, _manager: Manager, event: Mapping[str, str]) -> None:
        if event.get("Event") not in IGNORED_EVENTS:
            self.events.put_nowait(event)

    async def connect(self, timeout: float = 10.0) -> None:
        self._manager.connect()
        try:
            await asyncio.wait_for(self.logged_in.wait(), timeout)
        except TimeoutError:
            raise AmiError(f"AMI login to {self._manager.config['host']}:{self._manager.config['port']} failed") from None

    def close(self) -> None:
        self._manager.close()

    async def action(self, action: Mapping[str, str], timeout: float = 10.0) -> Mapping[str, str]:
        if not self.logged_in.is_set():
            raise AmiError("AMI is not connected")
        try:
            reply = await asyncio.wait_for(self._manager.send_action(dict(action), as_list=False), timeout)
        except TimeoutError:
            raise AmiError(f"AMI {action['Action']} got no reply in {timeout:.0f} s") from None
        if reply.get("Response") == "Error":
            raise AmiError(f"AMI {action['Action']} failed: {reply.get('Message', 'no message')}")
        return reply

    async def originate_local(
        self, exten: str, context: str, caller_context: str, caller_id: str, variables: Mapping[str, str]
    ) -> Mapping[str, str]:
        """Places a call with no phone: Local/<exten>@<context>, whose ;1 half runs <caller_context>."""
        return await self.action({
            "Action": "Originate",
            "Channel": f"Local/{exten}@{context}",
            "Context": caller_context,
            "Exten": "s",
            "Priority": "1",
            "CallerID": caller_id,
            "Async": "true",
            "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
        })

    async def play_dtmf(self, channel: str, digit: str) -> None:
        await self.action({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "120", "Async": "false"})

    async def hangup(self, channel: str) -> None:
        await self.action({"Action": "Hangup", "Channel": channel})
