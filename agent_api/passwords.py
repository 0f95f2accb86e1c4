"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

# Checks run here, half the cores at most (each takes a core and 64 MiB for a while): a flood of
# sign-ins queues for these threads and leaves the rest of the machine, and the request threads, free.
_checks = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) // 2), thread_name_prefix="password-check")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def check_password(password_hash: str | None, password: str) -> bool:
    """verify_password, on the password-check threads."""
    return await asyncio.get_running_loop().run_in_executor(_checks, verify_password, password_hash, password)
