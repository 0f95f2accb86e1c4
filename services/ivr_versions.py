"""IVR flow versions for admins: drafts kept whether valid or not; publishing and rolling back
check the flow and install its prompts before the version goes live."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from domain.errors import Conflict, HotlineError, Invalid, NotFound, UpstreamFailed
from ivr.diff import FlowDiff, flow_diff
from ivr.validation import FlowError, FlowTooDeep, InvalidFlow
from storage.ivr_versions import (
    IvrEvent,
    IvrVersion,
    add_version,
    audit_events,
    get_version,
    list_versions,
    live_flow,
    previous_live,
    record_publish,
)
from telephony.prompts import PromptRenderError

MAX_SOURCE_BYTES = 200_000
SYSTEM_ACTOR = "system"


class IvrAdminError(HotlineError):
    """Any refusal of the versions service."""


class SourceRejected(IvrAdminError, Invalid):
    """Empty, larger than MAX_SOURCE_BYTES, or nested deeper than any flow."""

    code = "flow_source_rejected"


class VersionNotFound(IvrAdminError, NotFound):
    code = "ivr_version_not_found"


class VersionConflict(IvrAdminError, Conflict):
    """Not possible in the versions' present state (already live; nothing to roll back to)."""

    code = "ivr_version_conflict"


class PublishFailed(IvrAdminError, UpstreamFailed):
    """Installing the version's prompts failed; the live version is unchanged."""

    code = "ivr_publish_failed"


def _now() -> datetime:
    return datetime.now(UTC)


class IvrAdmin:
    """`check` raises InvalidFlow for an invalid source; `install` renders and installs a source's
    prompts for Asterisk. No database transaction is open while installing: on SQLite each
    transaction holds the write lock, and the FastAGI server reads the live flow every second."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        check: Callable[[str], object],
        install: Callable[[str], None],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._sessions = sessions
        self._check = check
        self._install = install
        self._clock = clock
        self._going_live = threading.Lock()  # one publish or rollback at a time: installs must not interleave

    def draft(self, source: str, actor: str, note: str = "") -> tuple[IvrVersion, list[FlowError]]:
        """Stores the source as a new version, valid or not, with what is wrong with it."""
        if not source.strip():
            raise SourceRejected("the flow source is empty: send the flow's YAML")
        size = len(source.encode("utf-8"))
        if size > MAX_SOURCE_BYTES:
            raise SourceRejected(f"the flow source has {size} bytes; at most {MAX_SOURCE_BYTES} are accepted")
        try:
            self._check(source)
            errors: list[FlowError] = []
        except FlowTooDeep as exc:  # a limit on the source, like its size: not kept
            raise SourceRejected(f"the flow source is {exc.errors[0].problem}") from None
        except InvalidFlow as exc:
            errors = list(exc.errors)
        with self._sessions() as session, session.begin():
            number = add_version(session, source, actor, note, self._clock())
            version = get_version(session, number)
        assert version is not None
        return version, errors

    def check_version(self, number: int) -> list[FlowError]:
        return self._errors(self.version(number).source)

    def publish(self, number: int, actor: str) -> IvrVersion:
        """Makes the version live. An invalid version raises InvalidFlow and is never published."""
        with self._going_live:
            with self._sessions() as session, session.begin():
                version = self._found(get_version(session, number), number)
                live = live_flow(session)
            if live is not None and live.number == number:
                raise VersionConflict(f"version {number} is already live")
            self._check(version.source)
            self._install_prompts(version.source, f"version {number}")
            detail = f"replaces version {live.number}" if live else "first version live"
            return self._went_live(number, actor, "publish", detail)

    def rollback(self, actor: str, to: int | None = None) -> IvrVersion:
        """Makes live again a version that was live before: `to`, or by default the one live
        before the live one. It is checked again, as the configured queues may have changed."""
        with self._going_live:
            with self._sessions() as session, session.begin():
                live = live_flow(session)
                target = to if to is not None else previous_live(session)
                version = None if target is None else get_version(session, target)
            if live is None:
                raise VersionConflict("no version is live yet: publish one; there is nothing to roll back")
            if target is None:
                raise VersionConflict(f"no version was live before version {live.number}: nothing to roll back to")
            version = self._found(version, target)
            if version.status == "live":
                raise VersionConflict(f"version {target} is already live")
            if version.status == "draft":
                raise VersionConflict(
                    f"version {target} was never live; only versions live before can be rolled back to (publish it)"
                )
            self._check(version.source)
            self._install_prompts(version.source, f"version {target}")
            return self._went_live(target, actor, "rollback", f"rolled back from version {live.number}")

    def seed(self, source: str) -> int | None:
        """When there is no version at all, stores `source` as the first one and publishes it (the
        shipped default flow, at start); None when versions exist."""
        with self._going_live:
            with self._sessions() as session, session.begin():
                if list_versions(session):
                    return None
            self._check(source)
            self._install_prompts(source, "the default flow")
            with self._sessions() as session, session.begin():
                if list_versions(session):
                    return None  # another process seeded meanwhile
                now = self._clock()
                number = add_version(session, source, SYSTEM_ACTOR, "shipped default flow", now)
                record_publish(session, number, SYSTEM_ACTOR, "publish", "first version live", now)
            return number

    def diff(self, a: int, b: int) -> FlowDiff:
        old, new = self.version(a), self.version(b)
        return flow_diff(old.source, new.source, f"version {a}", f"version {b}")

    def versions(self) -> list[IvrVersion]:
        """Newest first."""
        with self._sessions() as session, session.begin():
            return list_versions(session)

    def version(self, number: int) -> IvrVersion:
        with self._sessions() as session, session.begin():
            return self._found(get_version(session, number), number)

    def audit(self, limit: int = 100) -> list[IvrEvent]:
        """Newest first."""
        with self._sessions() as session, session.begin():
            return audit_events(session, limit)

    def flow(self, number: int) -> object:
        """The version's flow as calls would run it; InvalidFlow if it is not valid now."""
        return self._check(self.version(number).source)

    def live(self) -> IvrVersion | None:
        with self._sessions() as session, session.begin():
            live = live_flow(session)
            return None if live is None else get_version(session, live.number)

    def _errors(self, source: str) -> list[FlowError]:
        try:
            self._check(source)
        except InvalidFlow as exc:
            return list(exc.errors)
        return []

    def _install_prompts(self, source: str, what: str) -> None:
        try:
            self._install(source)
        except (PromptRenderError, OSError) as exc:
            message = f"{what} is not live: installing its prompts failed ({exc}); fix that and retry"
            raise PublishFailed(message) from exc

    def _went_live(self, number: int, actor: str, action: str, detail: str) -> IvrVersion:
        with self._sessions() as session, session.begin():
            record_publish(session, number, actor, action, detail, self._clock())
            version = get_version(session, number)
        assert version is not None
        return version

    @staticmethod
    def _found(version: IvrVersion | None, number: int) -> IvrVersion:
        if version is None:
            raise VersionNotFound(f"no IVR flow version {number}")
        return version
