"""The cyclic garbage collector is paused while a pulled page is applied, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from directorstudio_client import ManualClock, SQLiteStorage, SyncService
from directorstudio_client.sync.collector import collector_paused

ROW = {"project_id": "p1", "user_id": "u1", "title": "Film", "version": 1}


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_nested_pauses_turn_the_collector_back_on_after_the_last_one():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_ended_by_an_error_turns_the_collector_back_on():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the page was refused")
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


class OnePage:
    """A server that answers every pull with one page of one project."""

    def rpc(self, name: str, args: Any) -> Any:
        assert name == "sync_pull"
        row = {"table": "project_overview", "id": "p1", "version": 1, "row": ROW}
        return {"changes": [row], "cursor": "1", "has_more": False}

    def subscribe_hints(self, user_id: str, on_hint: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_a_pull_applies_its_page_with_the_collector_paused(tmp_path: Path):
    store = SQLiteStorage(tmp_path / "cache.db")
    sync = SyncService(store, OnePage(), user_id="u1", client_id="c1", clock=ManualClock())
    seen: list[bool] = []
    store.subscribe("project_overview", lambda _key: seen.append(gc.isenabled()))
    assert sync.pull() == 1
    assert seen == [False]
    assert gc.isenabled()
    assert [p["title"] for p in store.get_project_overviews("u1")] == ["Film"]
    store.close()
