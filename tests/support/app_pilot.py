"""Steps of the app tests, done through the UI the way a person does them."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from directorstudio.app import DirectorStudioApp
from tests.support.app_stack import ShiftedClock, screen_name, table_rows, until


def studio(pilot: Pilot[Any]) -> DirectorStudioApp:
    app = pilot.app
    assert isinstance(app, DirectorStudioApp)
    return app


async def sign_in_anonymously(pilot: Pilot[Any]) -> str:
    """Continue without an account; the new user's id once the library is shown."""
    await pilot.click("#anonymous")
    await until(pilot, lambda: screen_name(pilot) == "LibraryScreen", "signed in")
    return studio(pilot).require_session().user_id


async def sign_in_with_email(pilot: Pilot[Any], email: str, password: str) -> str:
    """Sign in with an existing account; the user's id."""
    await pilot.click("#email")
    await pilot.press(*email)
    await pilot.click("#password")
    await pilot.press(*password, "enter")
    await until(pilot, lambda: screen_name(pilot) == "LibraryScreen", "signed in")
    return studio(pilot).require_session().user_id


async def library_loaded(pilot: Pilot[Any]) -> None:
    """Wait until the library's first load has finished (reconciled, or offline)."""
    projects = studio(pilot).require_session().projects
    await until(pilot, lambda: projects.state.status in ("ready", "offline"), "library loaded")


async def quick_create(pilot: Pilot[Any], prompt: str) -> None:
    """Type a prompt into the quick-create line and press Enter."""
    await pilot.click("#quick")
    await pilot.press(*prompt, "enter")


async def open_first_project(pilot: Pilot[Any]) -> None:
    """Open the project under the library's cursor."""
    await until(pilot, lambda: table_rows(pilot, "#projects") != [], "a project is listed")
    pilot.app.screen.query_one("#projects").focus()
    await pilot.press("enter")
    await until(pilot, lambda: screen_name(pilot) == "EditorScreen", "the editor is open")


async def fill_scene_dialog(pilot: Pilot[Any], prompt: str, duration: float) -> None:
    """Fill the open scene dialog and save it."""
    await until(pilot, lambda: screen_name(pilot) == "SceneDialog", "the scene dialog is open")
    dialog = pilot.app.screen
    dialog.query_one("#scene-prompt", Input).value = prompt
    dialog.query_one("#scene-duration", Input).value = f"{duration:g}"
    dialog.query_one("#scene-duration", Input).focus()
    await pilot.press("enter")
    await until(pilot, lambda: screen_name(pilot) == "EditorScreen", "the dialog closed")


async def add_scene(pilot: Pilot[Any], prompt: str, duration: float = 4.0) -> None:
    """Press n in the editor and save a new scene."""
    await pilot.press("n")
    await fill_scene_dialog(pilot, prompt, duration)


async def catch_up(pilot: Pilot[Any], clock: ShiftedClock) -> None:
    """The network is back: let every retry's wait pass, and press s (sync now)."""
    clock.advance(120)
    await pilot.press("s")


def badges(pilot: Pilot[Any], selector: str, column: int = -1) -> list[str]:
    """One column of a table (by default its last, the sync badge)."""
    return [row[column] for row in table_rows(pilot, selector)]
