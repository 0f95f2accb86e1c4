"""Files only the service's own user may read: secrets, the database, callers' audio, spooled
items. Modes are set explicitly, so they hold whatever umask the process was started with."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Creates `path` (and missing parents) if needed and makes it 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def open_private(path: Path, append: bool = False) -> int:
    """A descriptor for writing `path`, created 0600 (truncated unless appending)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd
