"""The changes of a pull page are checked before the client stores them: every page, whether
its changes are taken as they are or validated one by one, gives the records ``Change``
validation gives and refuses what it refuses (pydantic ``ValidationError``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from directorstudio.contracts.sync import (
    SYNCED_TABLES,
    Change,
    PulledChange,
    PullEnvelope,
)
from directorstudio_client import ManualClock, SQLiteStorage, SyncService

ROW = {
    "project_id": "p1",
    "user_id": "u1",
    "title": "Film",
    "archived": False,
    "version": 3,
    "sync_txid": "9",
}
GOOD = {"table": "project_overview", "id": "p1", "version": 3, "deleted": False, "row": ROW}


class Text(str):
    """A str subclass (what pydantic takes, but not as it is)."""


anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5),
    st.sampled_from(["3", "true", "1", "project_overview", "no_such_table", Text("p1")]),
    st.lists(st.integers(), max_size=2),
)  # fmt: skip
rows = st.one_of(
    st.dictionaries(st.text(max_size=5), anything, max_size=4),
    st.dictionaries(st.integers(), anything, max_size=2),
    anything,
)
changes = st.one_of(
    st.fixed_dictionaries(
        {"table": st.sampled_from(SYNCED_TABLES), "id": st.text(max_size=8),
         "version": st.integers(0, 2**40)},
        optional={"deleted": st.booleans(), "row": st.dictionaries(st.text(max_size=5), anything)},
    ),
    st.fixed_dictionaries(
        {"table": anything | st.sampled_from(SYNCED_TABLES), "id": anything, "version": anything},
        optional={"deleted": anything, "row": rows, "extra": anything},
    ),
    anything,
)  # fmt: skip


def validated(raw: list[Any]) -> list[PulledChange]:
    """What ``Change`` validation makes of the page, as records."""
    return [
        PulledChange(c.table, c.id, c.version, c.deleted, c.row)
        for c in pydantic.TypeAdapter(list[Change]).validate_python(raw)
    ]


def outcome(check: Any, raw: list[Any]) -> tuple[str, Any]:
    try:
        records = check(raw)
    except pydantic.ValidationError as error:
        return "refused", [(e["loc"], e["type"]) for e in error.errors()]
    return "taken", [(tuple(map(type, r)), r) for r in records]


@settings(max_examples=400, deadline=None)
@given(st.lists(changes, max_size=4))
def test_every_page_gives_the_records_and_errors_of_change_validation(raw: list[Any]):
    page = PullEnvelope(changes=raw)
    assert outcome(lambda _raw: page.checked_changes(), raw) == outcome(validated, raw)


def test_a_server_page_is_taken_as_it_came():
    (record,) = PullEnvelope(changes=[GOOD]).checked_changes()
    assert record == PulledChange("project_overview", "p1", 3, False, ROW)
    assert record.row is ROW  # not a model per row, nor a copy


def test_a_change_without_deleted_or_row_gets_the_defaults():
    change = {"table": "scene_drafts", "id": "s1", "version": 1}
    assert PullEnvelope(changes=[change]).checked_changes() == [
        PulledChange("scene_drafts", "s1", 1, False, {})
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {**GOOD, "table": "app_users"},
        {**GOOD, "version": "three"},
        {**GOOD, "version": None},
        {**GOOD, "id": 7},
        {**GOOD, "deleted": "perhaps"},
        {**GOOD, "row": ["not", "a", "row"]},
        {**GOOD, "row": None},
        {k: v for k, v in GOOD.items() if k != "version"},
        "not a change",
    ],
)
def test_a_page_with_one_bad_change_is_refused_whole(bad: Any):
    page = PullEnvelope(changes=[GOOD, bad])
    with pytest.raises(pydantic.ValidationError):
        page.checked_changes()


def test_values_change_validation_converts_are_converted_as_it_does():
    lax = {**GOOD, "version": "4", "deleted": "true", "note": "kept by the model only"}
    (record,) = PullEnvelope(changes=[lax]).checked_changes()
    assert (record.version, record.deleted) == (4, True)


class Pages:
    """A server answering sync_pull with the given pages, one after the other (the client is
    what is tested: a real server never sends a bad change)."""

    def __init__(self, *pages: dict[str, Any]) -> None:
        self.pages = list(pages)

    def rpc(self, name: str, args: Any) -> Any:
        assert name == "sync_pull"
        return self.pages.pop(0)

    def subscribe_hints(self, user_id: str, on_hint: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_a_pull_refuses_a_page_with_a_bad_change_and_keeps_the_pages_before_it(tmp_path: Path):
    second = {**GOOD, "id": "p2", "row": {**ROW, "project_id": "p2"}}
    bad = {**GOOD, "id": "p3", "version": "three"}
    store = SQLiteStorage(tmp_path / "cache.db")
    server = Pages(
        {"changes": [GOOD], "cursor": "c1", "has_more": True},
        {"changes": [second, bad], "cursor": "c2", "has_more": False},
    )
    sync = SyncService(store, server, user_id="u1", client_id="c1", clock=ManualClock())
    with pytest.raises(pydantic.ValidationError):
        sync.pull()
    assert store.get_cursor() == "c1"
    assert [r["project_id"] for r in store.get_project_overviews("u1")] == ["p1"]
    store.close()
