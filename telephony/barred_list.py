"""The barred list mirrored into Asterisk's AstDB (family `hotline-barred`), so the dialplan refuses
a barred caller even when the AGI fails, times out or could not check (extensions.conf, `intake`).

AstDB is written through our own dialplan (`hotline-barred-list`, AMI Originate of a Local channel),
not AMI DBPut/DBDel: those need the `system` class, which our AMI account does not get. It is read
back with DBGetTree (`reporting`) whenever AMI (re)connects, and reconciled with the list in full;
between connections the list is re-read every `refresh_seconds` and only changes are written, so
new bars, lifted bars and expired bars all reach Asterisk within that period. When the list cannot
be read, AstDB keeps what it has: a bar is never dropped because the database is down."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping

from domain.dialplan_names import AstDbFamily, Context, Var
from telephony.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

FAMILY = AstDbFamily.BARRED
CONTEXT = Context.BARRED_LIST
BATCH = 40  # numbers per Originate: its Variable header stays well under AMI's 1024-byte line
_NUMBER = re.compile(r"[0-9+]{1,20}")  # what the dialplan leaves of a caller ID


class BarredListMirror:
    def __init__(self, ami: AmiClient, barred_now: Callable[[], frozenset[str]], refresh_seconds: float):
        """`barred_now` reads the numbers barred now (it is run in a thread: it may query a database)."""
        self._ami = ami
        self._barred_now = barred_now
        self._refresh = refresh_seconds
        self._mirrored: set[str] | None = None  # what AstDB holds; None: unknown, read it back first

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        """Until cancelled; `events`: an AMI subscription (only its connection events matter)."""
        while True:
            await self.sync()
            await self._wait(events)

    async def sync(self) -> None:
        """Brings AstDB in line with the barred list; failures are logged and tried again next time."""
        if not self._ami.connected:
            self._mirrored = None
            return
        try:
            wanted = {n for n in await asyncio.to_thread(self._barred_now) if _mirrorable(n)}
        except Exception:
            log.warning("barred list not read; Asterisk keeps the copy it has", exc_info=True)
            return
        try:
            if self._mirrored is None:
                self._mirrored = await self._read_back()
            await self._write("put", wanted - self._mirrored, self._mirrored)
            await self._write("del", self._mirrored - wanted, self._mirrored)
        except AmiError as exc:
            log.warning("barred list not mirrored into AstDB: %s", exc)
            self._mirrored = None

    async def _wait(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        """Until the refresh period is over or AMI has (re)connected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._refresh
        while (left := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(events.get(), left)
            except TimeoutError:
                return
            if event.get("Event") in ("HotlineAmiConnected", "HotlineAmiDisconnected"):
                self._mirrored = None
                if event["Event"] == "HotlineAmiConnected":
                    return

    async def _read_back(self) -> set[str]:
        try:
            entries = await self._ami.action_list({"Action": "DBGetTree", "Family": FAMILY})
        except AmiError as exc:
            if "not found" in str(exc).lower():  # no number barred yet: the family does not exist
                return set()
            raise
        return {e["Key"].rsplit("/", 1)[-1] for e in entries if e.get("Event") == "DBGetTreeResponse" and "Key" in e}

    async def _write(self, operation: str, numbers: Iterable[str], mirrored: set[str]) -> None:
        """Puts or deletes `numbers`, keeping `mirrored` (what AstDB holds) up to date batch by batch."""
        pending = sorted(numbers)
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            await self._ami.action(
                {
                    "Action": "Originate",
                    "Channel": f"Local/{operation}@{CONTEXT}",
                    "Context": CONTEXT,
                    "Exten": "done",
                    "Priority": "1",
                    "Timeout": "10000",
                    "Async": "false",
                    "Variable": f"{Var.BARRED_NUMBERS}={'&'.join(batch)}",
                },
                timeout=15,
            )
            if operation == "put":
                mirrored.update(batch)
            else:
                mirrored.difference_update(batch)
            log.info("AstDB barred list: %s %d numbers", operation, len(batch))


def _mirrorable(number: str) -> bool:
    if _NUMBER.fullmatch(number):
        return True
    log.warning("a barred number that is no caller ID the dialplan can see is not mirrored")
    return False
