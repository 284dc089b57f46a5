"""A pull of many pages into a fresh cache: one transaction per page with its cursor, the
cache's indexes built once at the end, and an interruption that loses nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client import ManualClock
from tests.support.client import Device, create_user, open_device
from tests.support.statement_spy import statements

Conn = psycopg.Connection[Any]
PROJECTS = 25
PAGE = 10


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "puller@example.com")


@pytest.fixture
def reader(tmp_path: Path, database_url: str, user: str) -> Iterator[Device]:
    writer = open_device(tmp_path / "writer.db", database_url, user, ManualClock())
    for n in range(PROJECTS):
        writer.sync.create_project(f"project {n}")
    writer.sync.run_once()
    writer.network.close()
    device = open_device(tmp_path / "reader.db", database_url, user, ManualClock())
    device.sync.pull_page_size = PAGE
    yield device
    device.network.close()


@dataclass
class CutAfter:
    """Passes ``pages`` sync_pull calls on, then the network is gone."""

    inner: Any
    pages: int

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        if name == "sync_pull":
            if self.pages == 0:
                raise DirectorStudioError("network unreachable", code=ErrorCode.UNAVAILABLE)
            self.pages -= 1
        return self.inner.rpc(name, args)

    def subscribe_hints(self, user_id: str, on_hint: Callable[[str], None]) -> Any:
        return self.inner.subscribe_hints(user_id, on_hint)

    def close(self) -> None:
        self.inner.close()


def index_names(device: Device) -> set[str]:
    records = device.storage._query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {str(r[0]) for r in records}


def test_a_long_pull_applies_each_page_with_its_cursor_and_builds_the_indexes_once(
    reader: Device, user: str
) -> None:
    with statements(reader.storage) as seen:
        pulled = reader.sync.pull()
    assert pulled == PROJECTS
    pages = -(-PROJECTS // PAGE)
    # One transaction per page, and one each to put the indexes off and to build them.
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"] * (pages + 2)
    assert sum(s.startswith("CREATE INDEX IF NOT EXISTS project_overview_list") for s in seen) == 1
    assert len(reader.storage.list_projects(user)) == PROJECTS
    plan = reader.storage._query(
        "EXPLAIN QUERY PLAN SELECT project_id FROM project_overview"
        " WHERE user_id = ? AND _deleted = 0 AND deleted_at IS NULL ORDER BY last_updated DESC",
        (user,),
    )
    assert any("project_overview_list" in str(step) for step in plan)


def test_a_long_pull_cut_midway_keeps_its_pages_and_the_next_pull_completes(
    reader: Device, user: str
) -> None:
    network = reader.sync.transport
    reader.sync.transport = CutAfter(network, pages=2)
    with pytest.raises(DirectorStudioError):
        reader.sync.pull()
    kept = reader.storage.get_project_overviews(user)
    assert len(kept) == 2 * PAGE
    assert {"project_overview_list", "scene_drafts_list"} <= index_names(reader)
    reader.sync.transport = network
    assert reader.sync.pull() == PROJECTS - 2 * PAGE
    titles = {p["title"] for p in reader.storage.get_project_overviews(user)}
    assert titles == {f"project {n}" for n in range(PROJECTS)}
    assert reader.sync.pull() == 0
