"""The IVR flow version service over SQLite and PostgreSQL, with the real flow check and a recording
prompt installer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from ivr.flow import Flow
from ivr.validation import FlowCatalogue, InvalidFlow, parse_flow_text
from services.ivr_versions import (
    MAX_SOURCE_BYTES,
    IvrAdmin,
    PublishFailed,
    SourceRejected,
    VersionConflict,
    VersionNotFound,
)
from storage.database import make_engine, make_session_factory
from storage.ivr_versions import IvrVersion
from storage.migrate import upgrade_database
from telephony.prompts import PromptRenderError
from tests.conftest import Installer

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
QUEUES = ("hotline-general", "hotline-business", "hotline-leaders")
TARGETS = ("110", "119", "120")
DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")
HOLIDAY = DEFAULT.replace("您好，这里是一二三四五政务服务便民热线。", "您好，节日期间热线照常服务。")
GENERAL = "  general:\n    type: queue\n    queue: hotline-general\n"
BUSINESS = DEFAULT.replace(GENERAL, GENERAL.replace("hotline-general", "hotline-business"))
MISSPELT = DEFAULT.replace("prompt: barred_notice", "prompt: barred_notise")


def checker(queues: Collection[str] = QUEUES) -> Callable[[str], Flow]:
    return lambda source: parse_flow_text(source, FlowCatalogue(queues, TARGETS))


@pytest.fixture
def sessions(connection: Connection) -> Callable[[], Session]:
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def admin(sessions: Callable[[], Session], installer: Installer) -> IvrAdmin:
    return IvrAdmin(sessions, checker(), installer, clock=lambda: NOW)


def live_version(admin: IvrAdmin) -> IvrVersion:
    live = admin.live()
    assert live is not None, "no version is live"
    return live


def seeded(admin: IvrAdmin, source: str) -> int:
    number = admin.seed(source)
    assert number is not None, "versions existed already"
    return number


def test_seed_publishes_the_default_flow_once(admin: IvrAdmin, installer: Installer) -> None:
    number = admin.seed(DEFAULT)
    assert number is not None and installer.installed == [DEFAULT]
    live = live_version(admin)
    assert (live.number, live.source, live.created_by, live.status) == (number, DEFAULT, "system", "live")
    assert admin.seed(HOLIDAY) is None
    assert installer.installed == [DEFAULT] and [v.number for v in admin.versions()] == [number]


def test_seed_does_nothing_once_any_version_exists(admin: IvrAdmin, installer: Installer) -> None:
    admin.draft(HOLIDAY, "admin-li")
    assert admin.seed(DEFAULT) is None
    assert admin.live() is None and installer.installed == []


def test_an_invalid_draft_is_kept_with_its_errors_and_never_published(admin: IvrAdmin, installer: Installer) -> None:
    version, errors = admin.draft(MISSPELT, "admin-li", "改了提示")
    assert version.status == "draft" and version.source == MISSPELT and version.note == "改了提示"
    assert [(e.where, e.problem) for e in errors] == [
        ("nodes.barred.prompt", "prompt 'barred_notise' is not defined under prompts")
    ]
    assert admin.check_version(version.number) == errors
    with pytest.raises(InvalidFlow) as raised:
        admin.publish(version.number, "admin-li")
    assert raised.value.errors == errors
    assert installer.installed == [] and admin.live() is None
    assert [e.action for e in admin.audit()] == ["draft"]


def test_a_source_that_is_not_yaml_is_kept_as_a_draft_too(admin: IvrAdmin) -> None:
    version, errors = admin.draft("nodes: [unclosed", "admin-li")
    assert admin.version(version.number).source == "nodes: [unclosed"
    assert len(errors) == 1 and "not valid YAML" in errors[0].problem


@pytest.mark.parametrize(
    "source, problem", [("", "empty"), ("  \n", "empty"), ("#" * (MAX_SOURCE_BYTES + 1), f"at most {MAX_SOURCE_BYTES}")]
)
def test_empty_and_oversized_sources_are_refused(admin: IvrAdmin, source: str, problem: str) -> None:
    with pytest.raises(SourceRejected, match=problem):
        admin.draft(source, "admin-li")
    assert admin.versions() == []


def test_the_size_limit_counts_bytes(admin: IvrAdmin) -> None:
    characters = MAX_SOURCE_BYTES // 3 + 1  # far fewer than the limit, each 3 bytes in UTF-8
    with pytest.raises(SourceRejected, match=f"has {characters * 3} bytes"):
        admin.draft("热" * characters, "admin-li")


def test_publishing_installs_then_makes_the_version_live(admin: IvrAdmin, installer: Installer) -> None:
    first = admin.seed(DEFAULT)
    holiday, errors = admin.draft(HOLIDAY, "admin-li", "节日问候")
    assert errors == []
    published = admin.publish(holiday.number, "admin-wang")
    assert published.status == "live" and installer.installed == [DEFAULT, HOLIDAY]
    assert {v.number: v.status for v in admin.versions()} == {first: "retired", holiday.number: "live"}
    latest = admin.audit(limit=2)
    assert [(e.actor, e.action, e.version, e.detail) for e in latest] == [
        ("admin-wang", "publish", holiday.number, f"replaces version {first}"),
        ("admin-li", "draft", holiday.number, "节日问候"),
    ]


def test_publishing_the_live_or_an_unknown_version_is_refused(admin: IvrAdmin, installer: Installer) -> None:
    number = seeded(admin, DEFAULT)
    with pytest.raises(VersionConflict, match=f"version {number} is already live"):
        admin.publish(number, "admin-li")
    with pytest.raises(VersionNotFound, match=f"no IVR flow version {number + 1}"):
        admin.publish(number + 1, "admin-li")
    assert installer.installed == [DEFAULT] and len(admin.audit()) == 2


@pytest.mark.parametrize(
    "failure",
    [
        PromptRenderError("espeak-ng failed for prompt '您好'"),
        PermissionError(13, "Permission denied", "/asterisk/sounds/hotline"),
    ],
)
def test_a_failed_install_changes_nothing(admin: IvrAdmin, installer: Installer, failure: Exception) -> None:
    first = admin.seed(DEFAULT)
    holiday, _ = admin.draft(HOLIDAY, "admin-li")
    installer.failure = failure
    with pytest.raises(
        PublishFailed, match=f"version {holiday.number} is not live: installing its prompts failed"
    ) as raised:
        admin.publish(holiday.number, "admin-li")
    assert str(failure) in str(raised.value)
    assert live_version(admin).number == first and [e.action for e in admin.audit(limit=1)] == ["draft"]
    installer.failure = None
    assert admin.publish(holiday.number, "admin-li").status == "live"


def test_rollback_goes_back_to_the_version_live_before(admin: IvrAdmin, installer: Installer) -> None:
    first = admin.seed(DEFAULT)
    holiday, _ = admin.draft(HOLIDAY, "admin-li")
    admin.publish(holiday.number, "admin-li")
    back = admin.rollback("admin-wang")
    assert (back.number, back.status) == (first, "live") and installer.installed[-1] == DEFAULT
    [event] = admin.audit(limit=1)
    assert (event.actor, event.action, event.version, event.detail) == (
        "admin-wang",
        "rollback",
        first,
        f"rolled back from version {holiday.number}",
    )
    assert admin.rollback("admin-wang").number == holiday.number  # the one live before is now the holiday flow


def test_rollback_only_to_a_version_live_before(admin: IvrAdmin, installer: Installer) -> None:
    with pytest.raises(VersionConflict, match="no version is live yet"):
        admin.rollback("admin-li")
    first = admin.seed(DEFAULT)
    with pytest.raises(VersionConflict, match=f"no version was live before version {first}"):
        admin.rollback("admin-li")
    never, _ = admin.draft(HOLIDAY, "admin-li")
    with pytest.raises(VersionConflict, match=f"version {never.number} was never live"):
        admin.rollback("admin-li", to=never.number)
    with pytest.raises(VersionConflict, match=f"version {first} is already live"):
        admin.rollback("admin-li", to=first)
    with pytest.raises(VersionNotFound):
        admin.rollback("admin-li", to=never.number + 1)
    assert installer.installed == [DEFAULT] and live_version(admin).number == first


def test_rollback_checks_the_version_again(
    sessions: Callable[[], Session], admin: IvrAdmin, installer: Installer
) -> None:
    admin.seed(BUSINESS)
    holiday, _ = admin.draft(HOLIDAY, "admin-li")
    admin.publish(holiday.number, "admin-li")
    without_business = IvrAdmin(sessions, checker(("hotline-general",)), installer, clock=lambda: NOW)
    with pytest.raises(InvalidFlow) as raised:
        without_business.rollback("admin-li")
    assert "nodes.general.queue" in [e.where for e in raised.value.errors]
    assert live_version(admin).number == holiday.number and installer.installed == [BUSINESS, HOLIDAY]


def test_diff_names_the_versions_and_what_changed(admin: IvrAdmin) -> None:
    first = seeded(admin, DEFAULT)
    business, _ = admin.draft(BUSINESS, "admin-li")
    diff = admin.diff(first, business.number)
    assert diff.unified.startswith(f"--- version {first}\n+++ version {business.number}\n")
    changes = [line for line in diff.unified.splitlines()[3:] if line[0] in "+-"]
    assert changes == ["-    queue: hotline-general", "+    queue: hotline-business"]
    assert (diff.added, diff.removed, diff.changed, diff.prompts_changed) == ((), (), ("general",), ())
    with pytest.raises(VersionNotFound):
        admin.diff(first, business.number + 1)


def test_no_transaction_is_open_while_prompts_install(tmp_path: Path) -> None:
    """On SQLite a transaction holds the write lock: the FastAGI server's reads would wait for it."""
    path = tmp_path / "hotline.db"
    upgrade_database(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")

    def install(_source: str) -> None:
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the service held a transaction
            other.execute("ROLLBACK")
        finally:
            other.close()
        installed.append(_source)

    installed: list[str] = []
    admin = IvrAdmin(make_session_factory(engine), checker(), install)
    first = admin.seed(DEFAULT)
    holiday, _ = admin.draft(HOLIDAY, "admin-li")
    admin.publish(holiday.number, "admin-li")
    assert admin.rollback("admin-li").number == first
    assert installed == [DEFAULT, HOLIDAY, DEFAULT]
    engine.dispose()
