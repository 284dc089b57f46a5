"""Snapshots of the main screens (pytest-textual-snapshot), so a layout change shows in review
and fails here until the pictures in ``__snapshots__/`` are renewed.

Each picture is deterministic: a fixed terminal size, a fixed user and data seeded into the
cache as an earlier launch left it (tests/support/app_cache.py), a server that refuses every
connection (the app shows itself offline, never a server's answer), a clock that stands still
(no retry or poll comes due, no time of day is shown) and no blinking cursor. After an intended
change: ``pytest tests/py/app/test_snapshots.py --snapshot-update``, then review the pictures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from directorstudio.app import DirectorStudioApp
from directorstudio.app.config import LOCAL_URL, AppConfig
from directorstudio.app.screens.clips import ClipsScreen
from directorstudio.app.screens.editor import EditorScreen
from tests.support import app_cache as seed
from tests.support.app_pilot import add_scene, open_first_project, quick_create, studio
from tests.support.app_stack import screen_name, until

SIZE = (100, 30)


@pytest.fixture
def config(tmp_path: Path) -> Iterator[AppConfig]:
    """A signed-in device whose server refuses every connection."""
    with seed.refused_url() as url:
        configured = seed.offline_config(tmp_path, url)
        seed.sign_in_stored(configured)
        yield configured


async def _offline(pilot: Pilot[Any]) -> None:
    """Wait until the first round has failed to reach the server and the library says so."""
    session = studio(pilot).require_session()
    await until(pilot, lambda: session.status.state.online is False, "the app knows it is offline")
    await until(pilot, lambda: session.projects.state.status == "offline", "the library offline")
    await until(pilot, lambda: _queue_settled(pilot), "no change in flight")


def _queue_settled(pilot: Pilot[Any]) -> bool:
    counts = studio(pilot).require_session().status.state.counts
    return counts.get("pending", 0) == 0 and counts.get("in_flight", 0) == 0


def _steady_cursors(pilot: Pilot[Any]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


def _projects(config: AppConfig) -> None:
    with seed.cache(config) as storage:
        seed.project(storage, "p1", "Lighthouse at night", updated="2026-12-01T09:00:00+00:00",
                     scenes=3, seconds=13.0)  # fmt: skip
        seed.project(storage, "p2", "Desert road", updated="2026-11-30T18:30:00+00:00",
                     scenes=1, seconds=4.0)  # fmt: skip
        seed.project(storage, "p3", "City lights", updated="2026-11-28T12:00:00+00:00")
        for order, (prompt, seconds) in enumerate(
            [("The keeper climbs the stairs", 4.0), ("The lamp turns in the storm", 6.0),
             ("A ship passes the rocks", 3.0)]
        ):  # fmt: skip
            seed.scene(storage, f"s{order}", "p1", order, prompt, seconds)


def test_the_sign_in_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = DirectorStudioApp(seed.offline_config(tmp_path, LOCAL_URL))

    async def shown(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: screen_name(pilot) == "SignInScreen", "the sign-in screen")
        _steady_cursors(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=shown)


def test_the_empty_library(snap_compare: Any, config: AppConfig) -> None:
    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=_offline)


def test_the_library_with_projects_one_of_them_saving(snap_compare: Any, config: AppConfig) -> None:
    _projects(config)

    async def create(pilot: Pilot[Any]) -> None:
        await _offline(pilot)
        await quick_create(pilot, "Night train to the coast")
        await until(pilot, lambda: _queue_settled(pilot), "the create waits for the server")

    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=create)


def test_the_scene_editor(snap_compare: Any, config: AppConfig) -> None:
    _projects(config)

    async def edit(pilot: Pilot[Any]) -> None:
        await _offline(pilot)
        await open_first_project(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, EditorScreen)
        await until(pilot, lambda: editor.editor.state.status == "offline", "scenes loaded")
        await add_scene(pilot, "Dawn: the storm is over", 5.0)
        await until(pilot, lambda: _queue_settled(pilot), "the new scene waits for the server")

    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=edit)


def test_the_clips_with_a_job_processing(snap_compare: Any, config: AppConfig) -> None:
    with seed.cache(config) as storage:
        seed.credits(storage, 2, free_clip=False)
        seed.clip_job(storage, "j1", "The lamp turns in the storm", "processing",
                      submitted="2026-12-01T09:30:00+00:00", progress=40)  # fmt: skip
        seed.clip_job(storage, "j2", "A ship passes the rocks", "queued",
                      submitted="2026-12-01T09:20:00+00:00")  # fmt: skip
        seed.clip_job(storage, "j3", "The keeper climbs the stairs", "failed",
                      submitted="2026-12-01T09:10:00+00:00", error="the render failed")  # fmt: skip
        seed.clip_job(storage, "j4", "Gulls over the harbour", "canceled",
                      submitted="2026-12-01T09:00:00+00:00")  # fmt: skip

    async def clips(pilot: Pilot[Any]) -> None:
        await _offline(pilot)
        await pilot.press("c")
        await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the clips screen")
        screen = pilot.app.screen
        assert isinstance(screen, ClipsScreen)
        await until(pilot, lambda: screen.clips.state.status == "offline", "the jobs loaded")

    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=clips)


def test_the_conflict_screen(snap_compare: Any, config: AppConfig) -> None:
    with seed.cache(config) as storage:
        seed.project(storage, "p1", "Harbour", updated="2026-12-01T09:00:00+00:00",
                     scenes=1, seconds=6.0)  # fmt: skip
        row = seed.scene(storage, "s1", "p1", 0, "Harbour at dawn", 4.0)
        seed.conflict(
            storage, row, mine={"prompt_text": "Harbour in fog", "duration": 8.0},
            theirs={"prompt_text": "Harbour at night", "duration": 6.0},
        )  # fmt: skip

    async def conflict(pilot: Pilot[Any]) -> None:
        await _offline(pilot)
        pilot.app.screen.query_one("#projects").focus()
        await pilot.press("enter")  # the editor opens, and its open conflict at once
        await until(pilot, lambda: screen_name(pilot) == "ConflictScreen", "the conflict screen")

    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=conflict)


def test_the_queue_screen_with_a_refused_clip(snap_compare: Any, config: AppConfig) -> None:
    _projects(config)
    with seed.cache(config) as storage:
        seed.refused_clip(storage, "j9", "One clip too many", submitted="2026-12-01T09:40:00+00:00")

    async def queue(pilot: Pilot[Any]) -> None:
        await _offline(pilot)
        await pilot.press("q")
        await until(pilot, lambda: screen_name(pilot) == "QueueScreen", "the queue screen")

    assert snap_compare(DirectorStudioApp(config), terminal_size=SIZE, run_before=queue)
