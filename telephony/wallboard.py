"""The supervisors' wallboard: the queue mirror's figures with today's answered calls, pushed
every few seconds and shown in the metrics."""

from __future__ import annotations

import asyncio
import logging
import time

from domain.agents import QueueBoard
from telephony import metrics
from telephony.ami import AmiClient
from telephony.cti_config import SUPERVISORS, CtiHooks, Publish

log = logging.getLogger(__name__)


class Wallboard:
    def __init__(self, ami: AmiClient, board: QueueBoard, hooks: CtiHooks, publish: Publish, interval_seconds: float):
        self.ami = ami
        self.board = board
        self.hooks = hooks
        self.publish = publish
        self.interval_seconds = interval_seconds
        self._day = ""
        self._answered_base = (0, 0)

    async def run(self) -> None:
        """Pushes the wallboard to supervisors every few seconds."""
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                wallboard = await self.figures()
                metrics.show_wallboard(wallboard)
                self.publish(SUPERVISORS, {"type": "wallboard", **wallboard})
            except Exception:
                log.exception("CTI: wallboard not pushed")

    async def figures(self) -> dict:
        today = time.strftime("%Y-%m-%d")
        if today != self._day:  # counts start from what the database holds for the day
            self._answered_base = await asyncio.to_thread(self.hooks.answered_today)
            self._day = today
            self.board.answered = self.board.answered_in_time = 0
        answered = self._answered_base[0] + self.board.answered
        in_time = self._answered_base[1] + self.board.answered_in_time
        return {
            **self.board.wallboard(time.time()),
            "telephony_connected": self.ami.connected,
            "answered_today": answered,
            "answered_within_15s_today": in_time,
        }
