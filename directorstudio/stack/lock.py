"""One stack per data directory: ``up`` holds an exclusive lock on ``<data-dir>/stack.lock``.

The lock is an ``flock`` held for the life of the process, so the kernel releases it whenever
that process ends (even killed): a stale lock file never blocks the next ``up``. The file holds
the owner's pid, for the message a second ``up`` gives.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from directorstudio.errors import DirectorStudioError, ErrorCode

LOCK_FILE = "stack.lock"


class StackBusyError(DirectorStudioError):
    """Another ``up`` already runs on this data directory."""

    code = ErrorCode.UNAVAILABLE


class StackLock:
    """The held lock of one data directory."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self.path = path

    @classmethod
    def acquire(cls, data_dir: Path) -> StackLock:
        """Take the lock, or raise :class:`StackBusyError` naming the owner; nothing changes."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StackBusyError(
                f"a stack is already running on {data_dir.resolve()} (pid {owner}); stop it "
                "first, or give another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(handle, path)

    def release(self) -> None:
        """Give the lock up (also released when the process ends)."""
        if not self._handle.closed:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
