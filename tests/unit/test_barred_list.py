"""The barred list mirrored into AstDB (issue 20 item 4): what is written, and what is kept when the
list cannot be read. The AMI peer is a stand-in that holds an AstDB family the way the dialplan
context hotline-barred-list changes it; the real dialplan is exercised by tests/security/test_caller_id.py."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from telephony.barred_list import BATCH, FAMILY, BarredListMirror


class AstdbPeer:
    def __init__(self, numbers: set[str]):
        self.astdb = set(numbers)
        self.connected = True
        self.originates = 0

    async def action_list(self, action: Mapping[str, str]) -> list[Mapping[str, str]]:
        assert action == {"Action": "DBGetTree", "Family": FAMILY}
        return [{"Event": "DBGetTreeResponse", "Key": f"/{FAMILY}/{n}", "Val": "1"} for n in sorted(self.astdb)]

    async def action(self, action: Mapping[str, str], timeout: float = 10) -> Mapping[str, str]:
        assert action["Action"] == "Originate" and action["Async"] == "false"
        operation = action["Channel"].split("/")[1].split("@")[0]
        numbers = set(action["Variable"].removeprefix("BARRED_NUMBERS=").split("&"))
        self.astdb = self.astdb | numbers if operation == "put" else self.astdb - numbers
        self.originates += 1
        return {"Response": "Success"}


def test_astdb_is_reconciled_with_the_list_in_batches() -> None:
    peer = AstdbPeer({"13900000001", "13900000002"})  # 02 was unbarred while we were away
    barred = {"13900000001"} | {f"1380000{i:04d}" for i in range(BATCH + 5)}
    mirror = BarredListMirror(peer, lambda: frozenset(barred), refresh_seconds=60)  # type: ignore[arg-type]

    asyncio.run(mirror.sync())

    assert peer.astdb == barred
    assert peer.originates == 3  # two batches of puts, one of deletes


def test_numbers_no_caller_id_can_match_are_not_sent() -> None:
    peer = AstdbPeer(set())
    mirror = BarredListMirror(peer, lambda: frozenset({"13900000001", "139&1,2", "1" * 21}), 60)  # type: ignore[arg-type]

    asyncio.run(mirror.sync())

    assert peer.astdb == {"13900000001"}


def test_astdb_keeps_its_bars_when_the_list_cannot_be_read() -> None:
    peer = AstdbPeer({"13900000001"})

    def database_down() -> frozenset[str]:
        raise ConnectionError("database is down")

    asyncio.run(BarredListMirror(peer, database_down, 60).sync())  # type: ignore[arg-type]

    assert peer.astdb == {"13900000001"} and peer.originates == 0
