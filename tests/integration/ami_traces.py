"""Records what call control's event follower sees, for tests/unit/test_transfer_following.py to
replay: every AMI event in the order it was handled, and, between them, what call control itself
did (a transfer started, a party being rung into a room, a step it took, a change it made to the
queue mirror). Run the call-control tests with HOTLINE_RECORD_AMI_TRACES=<file> (see
tests/data/ami-traces/README.md); nothing is recorded otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from domain.transfer_following import Followed, PendingOriginate
from domain.transfers import Transfer
from telephony.cti import Cti

BOARD_CHANGES = (
    "set_mode",
    "consult_ringing",
    "back_with_caller",
    "into_room",
    "out_of_room",
    "agent_leaves",
    "handed_over",
)


class _RecordedOriginates(dict[str, PendingOriginate]):
    def __init__(self, write: Callable[[dict[str, Any]], None]):
        super().__init__()
        self._write = write

    def __setitem__(self, action_id: str, pending: PendingOriginate) -> None:
        self._write(
            {"Event": "TraceOriginating", "ActionID": action_id, "CallId": pending.call_id, "Room": pending.room}
        )
        super().__setitem__(action_id, pending)


class TraceRecorder:
    def __init__(self, cti: Cti, path: Path):
        self._out: IO[str] = path.open("a", encoding="utf-8")
        self._following = False  # inside the follower's carrying out of what an event decided
        follower, transfers, board, calls = cti.follower, cti.transfers, cti.board, cti.calls

        handle, carry_out = follower._handle, follower._carry_out

        async def handled(event: Any) -> None:
            self.write(dict(event))
            await handle(event)

        async def carried_out(call_id: str, followed: Followed) -> None:
            self._following = True
            try:
                await carry_out(call_id, followed)
            finally:
                self._following = False

        follower._handle, follower._carry_out = handled, carried_out  # type: ignore[method-assign]

        start = transfers.start

        def started(transfer: Transfer) -> Transfer:
            self.write(
                {
                    "Event": "TraceTransferStarted",
                    "CallId": transfer.call_id,
                    "Kind": str(transfer.kind),
                    "Target": transfer.target,
                    "User": transfer.by_user,
                    "At": transfer.started_at,
                }
            )
            return start(transfer)

        transfers.start = started  # type: ignore[method-assign]
        transfers.progress.originates = _RecordedOriginates(self.write)

        advance = calls._advance

        def stepped(call_id: str, state: Any, reason: str = "") -> Transfer | None:
            self.write({"Event": "TraceStep", "CallId": call_id, "State": str(state), "Reason": reason})
            return advance(call_id, state, reason)

        calls._advance = stepped  # type: ignore[method-assign]

        for name in BOARD_CHANGES:
            setattr(board, name, self._board_change(name, getattr(board, name)))

    def _board_change(self, name: str, change: Callable[..., None]) -> Callable[..., None]:
        def recorded(*args: Any) -> None:
            if not self._following:  # the replay redoes what the follower's actions change
                self.write({"Event": "TraceBoard", "Change": name, "Args": [str(a) for a in args]})
            change(*args)

        return recorded

    def write(self, entry: dict[str, Any]) -> None:
        self._out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._out.flush()

    def test_starts(self, name: str) -> None:
        self.write({"Event": "TraceTest", "Name": name})
