"""The live IVR version as the FastAGI server sees it: re-read at most every recheck interval, and
a version that cannot be read, parsed or installed leaves the running one in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi import metrics
from agi.live_flows import LiveFlows
from agi.session import RunningFlow
from ivr.flow import Flow
from ivr.validation import FlowCatalogue, InvalidFlow, load_flow, parse_flow_text
from storage.ivr_versions import LiveFlow

DEFAULT = Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml"
CATALOGUE = FlowCatalogue(("hotline-general",), ("110", "119", "120"))
SHIPPED = RunningFlow(0, load_flow(DEFAULT, CATALOGUE), {})


class Database:
    def __init__(self) -> None:
        self.live: LiveFlow | None = None
        self.down = False
        self.reads = 0

    def read(self) -> LiveFlow | None:
        self.reads += 1
        if self.down:
            raise ConnectionError("database unreachable")
        return self.live


def parse(source: str) -> Flow:
    return parse_flow_text(source, CATALOGUE)


def install(flow: Flow) -> dict[str, str]:
    return {name: f"hotline/{name}" for name in flow.prompts}


@pytest.fixture
def db() -> Database:
    return Database()


def test_new_calls_get_a_published_version_and_the_shipped_flow_before_any(db: Database) -> None:
    flows = LiveFlows(db.read, parse, install, SHIPPED, recheck_seconds=0)
    assert flows() is SHIPPED
    db.live = LiveFlow(3, DEFAULT.read_text(encoding="utf-8"))
    running = flows()
    assert (running.version, running.sounds["greeting"]) == (3, "hotline/greeting")
    assert metrics.IVR_VERSION._value.get() == 3


def test_the_database_is_read_at_most_once_per_interval(db: Database) -> None:
    flows = LiveFlows(db.read, parse, install, SHIPPED, recheck_seconds=60)
    for _ in range(100):
        flows()
    assert db.reads == 1


@pytest.mark.parametrize("fault", ["database down", "invalid source"])
def test_a_version_that_cannot_be_loaded_leaves_the_running_one(db: Database, fault: str) -> None:
    flows = LiveFlows(db.read, parse, install, SHIPPED, recheck_seconds=0)
    db.live = LiveFlow(1, DEFAULT.read_text(encoding="utf-8"))
    assert flows().version == 1
    failures = metrics.IVR_LOAD_FAILURES._value.get()
    if fault == "database down":
        db.down = True
    else:
        db.live = LiveFlow(2, "version: 1\nstart: nowhere\nprompts: {}\nnodes: {}\n")
        with pytest.raises(InvalidFlow):
            parse(db.live.source)
    assert flows().version == 1
    assert metrics.IVR_LOAD_FAILURES._value.get() == failures + 1
