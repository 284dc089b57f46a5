"""Two app instances (devices) of one account: edits of the same scene fields meet on the conflict
screen and a merge converges both; a reorder on one is shown on the other after sync."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from directorstudio.app import DirectorStudioApp
from tests.support.app_pilot import (
    add_scene,
    badges,
    catch_up,
    fill_scene_dialog,
    library_loaded,
    open_first_project,
    quick_create,
    sign_in_with_email,
    studio,
)
from tests.support.app_stack import AppStack, ShiftedClock, screen_name, table_rows, until

pytestmark = pytest.mark.anyio
SIZE = (120, 34)
PASSWORD = "correct horse battery"


def _account(stack: AppStack) -> tuple[str, str]:
    email = f"director-{uuid.uuid4().hex[:8]}@example.com"
    return email, stack.sign_up(email, PASSWORD)


def _scenes(pilot: object) -> list[tuple[str, str]]:
    return [(row[1], row[2]) for row in table_rows(pilot, "#scenes")]  # type: ignore[arg-type]


async def test_edits_of_one_scene_on_two_devices_are_merged_on_the_conflict_screen(
    stack: AppStack, tmp_path: Path
) -> None:
    email, user_id = _account(stack)
    phone_net, phone_clock = stack.network(), ShiftedClock()
    laptop = stack.config(tmp_path / "laptop", stack.network())
    phone = stack.config(tmp_path / "phone", phone_net, phone_clock)
    async with DirectorStudioApp(laptop).run_test(size=SIZE) as pilot:
        await sign_in_with_email(pilot, email, PASSWORD)
        await library_loaded(pilot)
        await quick_create(pilot, "Harbour at dawn")
        await open_first_project(pilot)
        await until(pilot, lambda: badges(pilot, "#scenes") == [""], "the scene is on the server")
    async with DirectorStudioApp(phone).run_test(size=SIZE) as pilot:
        await sign_in_with_email(pilot, email, PASSWORD)
        await library_loaded(pilot)
        await open_first_project(pilot)
        await until(pilot, lambda: _scenes(pilot) == [("Harbour at dawn", "0:04")], "on the phone")

    async with DirectorStudioApp(laptop).run_test(size=SIZE) as pilot:  # edited on the laptop
        await library_loaded(pilot)
        await open_first_project(pilot)
        await pilot.press("e")
        await fill_scene_dialog(pilot, "Harbour at night", 6.0)
        await until(pilot, lambda: badges(pilot, "#scenes") == [""], "the laptop's edit is saved")

    phone_net.cut()  # and on the phone, which has not seen it
    async with DirectorStudioApp(phone).run_test(size=SIZE) as pilot:
        await library_loaded(pilot)
        await open_first_project(pilot)
        await pilot.press("e")
        await fill_scene_dialog(pilot, "Harbour in fog", 8.0)
        assert badges(pilot, "#scenes") == ["Saving…"]
        phone_net.restore()
        await catch_up(pilot, phone_clock)
        await until(pilot, lambda: screen_name(pilot) == "ConflictScreen", "the conflict screen")
        assert table_rows(pilot, "#fields") == [
            ("duration", "8", "6", "mine"),
            ("prompt_text", "Harbour in fog", "Harbour at night", "mine"),
        ]
        pilot.app.screen.query_one("#fields").focus()
        await pilot.press("space")  # duration (the first field): theirs; prompt_text: mine
        assert [row[3] for row in table_rows(pilot, "#fields")] == ["theirs", "mine"]
        await pilot.press("g")
        await until(pilot, lambda: screen_name(pilot) == "EditorScreen", "back in the editor")
        merged = [("Harbour in fog", "0:06")]
        await until(pilot, lambda: badges(pilot, "#scenes") == [""], "the merge is saved")
        assert _scenes(pilot) == merged
        status = studio(pilot).require_session().status
        await until(pilot, lambda: status.state.queued == 0, "the phone's queue drained")

    async with DirectorStudioApp(laptop).run_test(size=SIZE) as pilot:  # both converge
        await library_loaded(pilot)
        await open_first_project(pilot)
        await until(pilot, lambda: _scenes(pilot) == merged, "the laptop shows the merge")

    assert stack.rows(
        "SELECT prompt_text, duration FROM public.scene_drafts WHERE user_id = %s", user_id
    ) == [("Harbour in fog", 6.0)]
    assert stack.rows(
        "SELECT kind, issues ->> 'resolution', issues -> 'fields' FROM public.continuity_logs"
        " WHERE user_id = %s",
        user_id,
    ) == [("conflict_resolution", "merge", ["duration", "prompt_text"])]


async def test_a_reorder_made_on_one_device_is_kept_and_shown_on_the_other_after_sync(
    stack: AppStack, tmp_path: Path
) -> None:
    email, user_id = _account(stack)
    first = DirectorStudioApp(stack.config(tmp_path / "first", stack.network()))
    async with first.run_test(size=SIZE) as pilot:
        await sign_in_with_email(pilot, email, PASSWORD)
        await library_loaded(pilot)
        await quick_create(pilot, "Opening shot")
        await open_first_project(pilot)
        await add_scene(pilot, "The chase")
        await add_scene(pilot, "The end")
        await until(pilot, lambda: badges(pilot, "#scenes") == ["", "", ""], "all confirmed")
        scenes = pilot.app.screen.query_one("#scenes")
        scenes.focus()
        await pilot.press("down", "down", "shift+up", "shift+up")  # "The end" moves to the top
        order = ["The end", "Opening shot", "The chase"]
        await until(pilot, lambda: [s[0] for s in _scenes(pilot)] == order, "reordered here")
        await until(pilot, lambda: badges(pilot, "#scenes") == ["", "", ""], "reorder confirmed")

    assert [
        row[0]
        for row in stack.rows(
            "SELECT prompt_text FROM public.scene_drafts WHERE user_id = %s ORDER BY order_index",
            user_id,
        )
    ] == order

    second = DirectorStudioApp(stack.config(tmp_path / "second", stack.network()))
    async with second.run_test(size=SIZE) as pilot:
        await sign_in_with_email(pilot, email, PASSWORD)
        await library_loaded(pilot)
        await open_first_project(pilot)
        await until(pilot, lambda: [s[0] for s in _scenes(pilot)] == order, "shown in order")
