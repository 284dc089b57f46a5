"""A one-thread pipeline that starts its thread only when work must overlap.

A sync round sends a batch (or fetches a page) and, only when there is a next one, overlaps it
with recording the previous answer. Most rounds of an interactive app have a single batch, so
the thread is started on the first overlapping call, not for every round (starting and joining
a thread costs more than a whole round trip on a busy machine).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


class Pipeline:
    """``run_now`` calls in this thread; ``run_behind`` in the pipeline's own thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._pool: ThreadPoolExecutor | None = None

    @staticmethod
    def run_now(call: Callable[[], T]) -> Future[T]:
        """Run ``call`` here; its result (or error) as a completed future."""
        future: Future[T] = Future()
        try:
            future.set_result(call())
        except BaseException as error:
            future.set_exception(error)
        return future

    def run_behind(self, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` in the pipeline thread (started on first use)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        return self._pool.submit(call)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
