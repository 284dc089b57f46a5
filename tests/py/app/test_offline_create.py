"""Offline create: with the gateway unreachable a project, its scenes and a clip are made,
the app quits and relaunches (still offline) showing them pending; when the network is back
the server holds them and the clip was charged."""

from __future__ import annotations

from pathlib import Path

import pytest

from directorstudio.app import DirectorStudioApp
from tests.support.app_pilot import (
    add_scene,
    badges,
    catch_up,
    library_loaded,
    open_first_project,
    quick_create,
    sign_in_anonymously,
    studio,
)
from tests.support.app_stack import AppStack, ShiftedClock, screen_name, table_rows, until

pytestmark = pytest.mark.anyio
SIZE = (110, 32)


async def test_work_done_offline_survives_a_relaunch_and_reaches_the_server_when_back_online(
    stack: AppStack, tmp_path: Path
) -> None:
    network, clock = stack.network(), ShiftedClock()
    config = stack.config(tmp_path, network, clock)

    async with DirectorStudioApp(config).run_test(size=SIZE) as pilot:
        user_id = await sign_in_anonymously(pilot)
        await library_loaded(pilot)
        network.cut()
        await quick_create(pilot, "Lighthouse at night")
        await open_first_project(pilot)
        await add_scene(pilot, "The keeper climbs the stairs", 3.0)
        await until(pilot, lambda: len(table_rows(pilot, "#scenes")) == 2, "both scenes shown")
        await pilot.press("k")  # render the first scene's clip
        await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the clips screen")
        await until(pilot, lambda: table_rows(pilot, "#jobs") != [], "the job is listed")
        assert badges(pilot, "#jobs", 1) == ["queued (not sent yet)"]
        status = studio(pilot).require_session().status
        await until(pilot, lambda: status.state.online is False, "the app knows it is offline")

    async with DirectorStudioApp(config).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "LibraryScreen", "the session resumed")
        await library_loaded(pilot)
        assert table_rows(pilot, "#projects")[0][0] == "Lighthouse at night"
        assert badges(pilot, "#projects") == ["Saving…"]
        await open_first_project(pilot)
        assert [row[1] for row in table_rows(pilot, "#scenes")] == [
            "Lighthouse at night",
            "The keeper climbs the stairs",
        ]
        assert badges(pilot, "#scenes") == ["Saving…", "Saving…"]
        assert stack.rows("SELECT 1 FROM public.project_overview WHERE user_id = %s", user_id) == []

        network.restore()
        await catch_up(pilot, clock)
        await until(pilot, lambda: badges(pilot, "#scenes") == ["", ""], "the scenes confirmed")
        status = studio(pilot).require_session().status
        await until(pilot, lambda: status.state.queued == 0, "the queue drained")
        bar = pilot.app.screen.query_one("#status-bar")
        await until(pilot, lambda: str(bar.render()).startswith("online"), "the bar says online")

    assert stack.rows(
        "SELECT s.prompt_text, s.duration FROM public.scene_drafts s"
        " JOIN public.project_overview p USING (project_id)"
        " WHERE p.user_id = %s AND p.title = 'Lighthouse at night' ORDER BY s.order_index",
        user_id,
    ) == [("Lighthouse at night", 4.0), ("The keeper climbs the stairs", 3.0)]
    assert stack.rows(
        "SELECT j.prompt, t.kind FROM public.clip_jobs j"
        " JOIN public.credit_transactions t ON t.clip_job_id = j.id WHERE j.user_id = %s",
        user_id,
    ) == [("Lighthouse at night", "first_clip")]
    assert stack.credits(user_id) == (0, True)
