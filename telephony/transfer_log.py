"""Applies what domain.transfer_following decided to the transfers in progress, tells the agent of
each step, counts finished transfers and writes finished 110 handoffs onto their tickets."""

from __future__ import annotations

import asyncio
import logging

from domain.transfer_following import Action, Announce, Followed, TransfersInProgress
from domain.transfers import Transfer, TransferKind
from telephony import metrics
from telephony.background import Background
from telephony.cti_config import CtiHooks
from telephony.desk_pushes import DeskPushes

log = logging.getLogger(__name__)


class TransferLog:
    def __init__(self, pushes: DeskPushes, hooks: CtiHooks):
        self._pushes = pushes
        self._hooks = hooks
        self._background = Background(log)
        self.progress = TransfersInProgress()

    @property
    def transfers(self) -> dict[str, Transfer]:
        return self.progress.transfers

    def start(self, transfer: Transfer) -> Transfer:
        self.transfers[transfer.call_id] = transfer
        self._pushes.transfer(transfer)
        return transfer

    def apply(self, call_id: str, followed: Followed) -> list[Action]:
        """Keeps the transfer as it now is, tells the agent of each step, counts and records what
        finished; returns the actions left for call control to carry out on Asterisk."""
        if followed.transfer is not None:
            self.transfers[call_id] = followed.transfer
        left: list[Action] = []
        for action in followed.actions:
            if not isinstance(action, Announce):
                left.append(action)
                continue
            self._pushes.transfer(action.transfer, action.message)
            if action.transfer.finished:
                metrics.TRANSFERS.labels(str(action.transfer.kind), str(action.transfer.state)).inc()
                if action.transfer.kind in (TransferKind.HANDOFF, TransferKind.DIRECT_HANDOFF):
                    self._background.spawn(
                        asyncio.to_thread(self._hooks.record_handoff, action.transfer), "CTI: record handoff"
                    )
        return left

    def ended(self, call_id: str) -> None:
        self.transfers.pop(call_id, None)
