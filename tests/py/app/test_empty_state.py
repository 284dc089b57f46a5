"""First launch: the empty library's message, then a quick create listed as saving until the
server confirms it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from directorstudio.app import DirectorStudioApp
from tests.support.app_stack import AppStack, screen_name, table_rows, until

pytestmark = pytest.mark.anyio


async def test_the_first_launch_shows_the_empty_library_and_a_create_is_saving_then_confirmed(
    stack: AppStack, tmp_path: Path
) -> None:
    network = stack.network()
    app = DirectorStudioApp(stack.config(tmp_path, network))
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "SignInScreen", "the sign-in screen")
        await pilot.click("#anonymous")
        await until(pilot, lambda: screen_name(pilot) == "LibraryScreen", "signed in")
        empty = app.screen.query_one("#empty", Static)
        await until(
            pilot,
            lambda: app.require_session().projects.state.status == "ready",
            "the library loaded",
        )
        assert empty.display
        assert "Your library is empty" in str(empty.render())

        network.hold()  # the create is in flight while the user looks at the list
        await pilot.click("#quick")
        await pilot.press(*"Night train", "enter")
        await until(pilot, lambda: table_rows(pilot, "#projects") != [], "the project is listed")
        assert table_rows(pilot, "#projects") == [("Night train", "0", "0:00", "Saving…")]
        assert not empty.display

        network.release()
        await until(
            pilot, lambda: table_rows(pilot, "#projects")[0][3] == "", "the server confirmed it"
        )
        user_id = app.require_session().user_id
        assert stack.rows(
            "SELECT title FROM public.project_overview WHERE user_id = %s", user_id
        ) == [("Night train",)]
