"""A durable spool: what was accepted but is not yet in the database, one JSON file per item,
written atomically (temp file, fsync, rename) so a crash or a database outage loses nothing.
Items are replayed oldest first and removed once stored; storing must be idempotent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _file_key(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


class DurableSpool:
    def __init__(self, directory: Path):
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, item: dict[str, Any]) -> Path:
        path = self._dir / f"{time.time_ns():020d}-{_file_key(key)}.json"
        partial = path.with_suffix(".part")
        with open(partial, "w", encoding="utf-8") as out:
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
        """Hands the pending items to `save` oldest first, removing each once saved, and stops at the
        first one `save` refuses. Returns how many are left and what stopped it."""
        pending = self.pending()
        for index, path in enumerate(pending):
            try:
                save(self.load(path))
            except Exception as exc:
                return len(pending) - index, exc
            self.done(path)
        return 0, None
