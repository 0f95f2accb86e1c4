"""Sends each queued caller's voice to our speech server while the call goes on untouched.

When a caller joins a queue, an AudioSocket channel (16 kHz) is originated that runs ChanSpy on
the caller's channel: quietly (q), hearing only what the caller says (o), and ending when the
caller hangs up (E). The call itself is never touched: if the speech server is down the
AudioSocket channel simply fails to connect, and the caller waits and talks as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from asr.streams import StreamDirectory
from domain.speech import Purpose
from telephony.ami import AmiClient, AmiError

log = logging.getLogger(__name__)


def audiosocket_dial(address: str, stream_id: str) -> str:
    """The dial string of an AudioSocket channel to `address` (host:port) sending 16 kHz slin."""
    return f"AudioSocket/{address}/{stream_id}/c(slin16)"


class AudioFork:
    def __init__(self, ami: AmiClient, directory: StreamDirectory, address: str):
        self._ami = ami
        self._directory = directory
        self._address = address

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        while True:
            event = await events.get()
            name = event.get("Event")
            if name == "QueueCallerJoin":
                await self._fork(event)
            elif name == "Hangup":
                self._directory.call_ended(event.get("Uniqueid", ""))

    async def _fork(self, event: Mapping[str, str]) -> None:
        call_id, channel = event.get("Uniqueid", ""), event.get("Channel", "")
        if not channel:
            return
        stream = self._directory.expect(call_id, event.get("CallerIDNum", ""), Purpose.CALL)
        if stream is None:
            return  # already forked: a caller back in a queue keeps its stream
        try:
            await self._ami.originate_application(
                audiosocket_dial(self._address, stream.stream_id), "ChanSpy", f"{channel},qoE", "hotline-asr"
            )
        except AmiError as exc:
            log.warning("call %s: caller audio not forked to speech (%s); the call goes on", call_id, exc)
