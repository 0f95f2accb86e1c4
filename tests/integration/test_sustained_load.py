"""A sustained, bounded load: waves of callers through the IVR and the queue to agents who answer.
After each wave no channel is left in Asterisk, no caller in the call-control mirror, every call is
on record, and memory (ours and Asterisk's) does not grow from one wave to the next."""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.integration.conftest import Hotline
from tests.integration.events import is_event

pytestmark = pytest.mark.integration

AGENTS = tuple(str(n) for n in range(8013, 8021))
WAVES, CALLS_PER_WAVE = 3, len(AGENTS)  # callers hang up after a fixed time: one agent each
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int | str) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def asterisk_pid(hotline: Hotline) -> int:
    run = hotline.settings.asterisk_root / "run" / f"asterisk-{hotline.settings.asterisk_instance}"
    return int((run / "asterisk.pid").read_text())


async def channels(hotline: Hotline) -> list[str]:
    events = await hotline.ami.action_list({"Action": "CoreShowChannels"})
    return [e["Channel"] for e in events if e.get("Event") == "CoreShowChannel"]


async def wave(hotline: Hotline) -> list[str]:
    calls = []
    for _ in range(CALLS_PER_WAVE):
        calls.append((await hotline.call(hotline.new_caller(), hold_seconds=20))[0])
        await asyncio.sleep(0.3)
    for uniqueid in calls:
        await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=120)
    return calls


async def test_waves_of_calls_leave_no_channels_and_memory_flat(hotline: Hotline, port: int) -> None:
    pid = asterisk_pid(hotline)
    memory: list[tuple[float, float]] = []
    answered = 0
    async with AsyncExitStack() as stack:
        for i, extension in enumerate(AGENTS):
            await stack.enter_async_context(hotline.agent(extension, port + 5 * i, calls=WAVES * CALLS_PER_WAVE))
        for _ in range(WAVES):
            since = hotline.events.mark()
            calls = await wave(hotline)
            answered += len(
                {
                    e["Uniqueid"]
                    for e in hotline.events.matching(is_event("AgentConnect"), since)
                    if e["Uniqueid"] in calls
                }
            )
            for uniqueid in calls:
                await hotline.record(uniqueid)
            await asyncio.sleep(1)
            memory.append((rss_mb(os.getpid()), rss_mb(pid)))
            assert await channels(hotline) == []
            assert hotline.cti.board.waiting() == []
    print(f"memory after each wave (ours MB, Asterisk MB): {memory}")
    assert answered == WAVES * CALLS_PER_WAVE
    (ours_first, asterisk_first), (ours_last, asterisk_last) = memory[0], memory[-1]
    # Flat: well under what a leak per call would add. Our process also holds this test's log of every
    # AMI event, which grows by design (about 3.5 MB a wave here).
    assert ours_last - ours_first < 20, memory
    assert asterisk_last - asterisk_first < 20, memory
