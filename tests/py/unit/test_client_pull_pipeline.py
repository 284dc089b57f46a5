"""A pull fetches the next page while it applies the current one, whatever the order in which
the two finish."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from directorstudio_client import ManualClock, SQLiteStorage, SyncService
from directorstudio_client.sync import service
from directorstudio_client.sync.pipeline import Pipeline

T = TypeVar("T")


class NotYetStarted(Future[T]):
    """A fetch the pipeline's thread has not taken up yet when the page is applied: it runs
    when its result is asked for (unless it was cancelled before)."""

    def __init__(self, call: Callable[[], T]) -> None:
        super().__init__()
        self._call = call

    def result(self, timeout: float | None = None) -> T:
        if not self.done() and self.set_running_or_notify_cancel():
            try:
                self.set_result(self._call())
            except BaseException as error:
                self.set_exception(error)
        return super().result(timeout)


class SlowThread(Pipeline):
    def run_behind(self, call: Callable[[], T]) -> Future[T]:
        return NotYetStarted(call)


class TwoPages:
    def rpc(self, name: str, args: Any) -> Any:
        n = 1 if args["p_cursor"] is None else 2
        row = {"project_id": f"p{n}", "user_id": "u1", "title": f"P {n}", "version": n}
        change = {"table": "project_overview", "id": f"p{n}", "version": n, "row": row}
        return {"changes": [change], "cursor": f"c{n}", "has_more": n == 1}

    def subscribe_hints(self, user_id: str, on_hint: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_a_page_applied_before_the_next_fetch_started_still_gets_the_next_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(service, "Pipeline", SlowThread)
    store = SQLiteStorage(tmp_path / "cache.db")
    sync = SyncService(store, TwoPages(), user_id="u1", client_id="c1", clock=ManualClock())
    assert sync.pull() == 2
    assert store.get_cursor() == "c2"
    assert sorted(r["project_id"] for r in store.get_project_overviews("u1")) == ["p1", "p2"]
    store.close()
