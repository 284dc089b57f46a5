"""Pausing Python's cyclic garbage collector while a pulled page is applied.

Applying a page allocates a few container objects per row (the checked change, the server row
and view dictionaries, the cached row, the statement parameters), all freed by reference
counting when the page is done. Each of them counts towards the collector's next pass, which
then walks every young container (and, every few passes, the whole heap) to find no garbage:
a sixth of a pull's CPU. Pausing the collector for the page leaves that garbage-free work out;
reference counting still frees everything, and the collector runs again after the page.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many callers pause the collector now, and whether it ran before the first one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector paused (nestable, from any thread); it is on
    again after the last pause ends only if it was on when the first began."""
    with _PAUSES.lock:
        if _PAUSES.count == 0:
            _PAUSES.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSES.count += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.count -= 1
            if _PAUSES.count == 0 and _PAUSES.was_enabled:
                gc.enable()
