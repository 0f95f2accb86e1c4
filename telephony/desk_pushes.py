"""What call control tells agents' desktops: their state, their call's state, a transfer's progress."""

from __future__ import annotations

import time

from domain.agents import LiveCall, QueueBoard
from domain.transfers import Transfer, TransferState
from telephony.cti_config import Publish


class DeskPushes:
    def __init__(self, board: QueueBoard, publish: Publish):
        self.board = board
        self.publish = publish

    def agent(self, extension: str | None) -> None:
        agent = self.board.agents.get(extension or "")
        if agent is not None:
            self.publish(f"user:{agent.user}", {"type": "agent", **agent.view(time.time(), self.board.wrapup_seconds)})

    def call(self, call: LiveCall, state: str) -> None:
        agent = self.board.agents.get(call.agent_extension or "")
        if agent is not None:
            self.publish(f"user:{agent.user}", {"type": "call", "call_id": call.call_id, "state": state})

    def transfer(self, transfer: Transfer, message: str = "") -> None:
        payload: dict = {"type": "transfer", **transfer.view()}
        if message:
            payload["message"] = message
        self.publish(f"user:{transfer.by_user}", payload)
        if transfer.state is TransferState.FAILED:
            self.publish(f"user:{transfer.by_user}", {"type": "error", "call_id": transfer.call_id, "message": message})
