"""Time as an injected dependency, so nothing in the library or its tests has to sleep."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch, and a way to wait for an event up to a timeout."""

    def now(self) -> float:
        """The current time in seconds since the epoch."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait until ``event`` is set or ``timeout`` seconds pass; whether it was set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(timeout)


class ManualClock:
    """A clock that only moves when told to (for tests and simulations)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        """Jump to a point in time."""
        with self._lock:
            self._now = when

    def wait(self, event: threading.Event, timeout: float) -> bool:
        # Time does not pass by itself: return at once with the event's state.
        return event.is_set()
