"""A durable spool: what was accepted but is not yet in the database, one JSON file per item,
written atomically (temp file, fsync, rename) so a crash or a database outage loses nothing.
Items are replayed oldest first and removed once stored; storing must be idempotent."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from storage.database import DATABASE_UNREACHABLE
from storage.private_files import open_private, private_dir

log = logging.getLogger(__name__)
SET_ASIDE = Counter(
    "hotline_spool_items_set_aside_total",
    "Spooled items that could not be stored (not for an outage) and were set aside",
    ["spool"],
)


def _file_key(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


class DurableSpool:
    def __init__(self, directory: Path):
        self._dir = directory
        private_dir(self._dir)
        self.failed_dir = directory / "failed"

    def put(self, key: str, item: dict[str, Any]) -> Path:
        path = self._dir / f"{time.time_ns():020d}-{_file_key(key)}.json"
        partial = path.with_suffix(".part")
        with open(open_private(partial), "w", encoding="utf-8") as out:
            json.dump(item, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)
        directory = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return path

    def holds(self, key: str) -> bool:
        """Whether an item put under `key` is still pending."""
        return any(self._dir.glob(f"*-{_file_key(key)}.json"))

    def pending(self) -> list[Path]:
        return sorted(self._dir.glob("*.json"))

    @staticmethod
    def load(path: Path) -> dict[str, Any]:
        return json.loads(path.read_text(encoding="utf-8"))

    @staticmethod
    def done(path: Path) -> None:
        path.unlink(missing_ok=True)

    def drain(self, save: Callable[[dict[str, Any]], None]) -> tuple[int, Exception | None]:
        """Hands the pending items to `save` oldest first, removing each once saved. It stops at the
        first the database cannot take now (it is tried again later) and returns how many are left
        and why. An item `save` refuses for any other reason would hold up all behind it for good:
        it is set aside in `failed/`, kept for an engineer, logged and counted, and the drain goes on."""
        pending = self.pending()
        for index, path in enumerate(pending):
            try:
                save(self.load(path))
            except DATABASE_UNREACHABLE as exc:
                return len(pending) - index, exc
            except Exception:
                log.exception("spooled item %s could not be stored; set aside in %s", path.name, self.failed_dir)
                private_dir(self.failed_dir)
                path.rename(self.failed_dir / path.name)
                SET_ASIDE.labels(self._dir.name).inc()
                continue
            self.done(path)
        return 0, None
