"""A change the server refuses is shown as a dead letter and retried from the queue screen;
the library shows the cached projects at once while the network is down."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.widgets import Static

from directorstudio.app import DirectorStudioApp
from tests.support.app_pilot import (
    badges,
    library_loaded,
    quick_create,
    sign_in_anonymously,
    studio,
)
from tests.support.app_stack import AppStack, screen_name, table_rows, until

pytestmark = pytest.mark.anyio
SIZE = (120, 34)


async def _submit(pilot: object, prompt: str) -> None:
    await pilot.press("n")  # type: ignore[attr-defined]
    await until(pilot, lambda: screen_name(pilot) == "TextDialog", "the prompt dialog")  # type: ignore[arg-type]
    await pilot.press(*prompt, "enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the dialog closed")  # type: ignore[arg-type]


def _titles(pilot: object) -> list[str]:
    try:
        return sorted(row[0] for row in table_rows(pilot, "#projects"))  # type: ignore[arg-type]
    except NoMatches:  # the screen is not composed yet
        return []


async def test_a_clip_refused_for_lack_of_credits_is_a_dead_letter_retried_from_the_queue(
    stack: AppStack, tmp_path: Path
) -> None:
    app = DirectorStudioApp(stack.config(tmp_path, stack.network()))
    async with app.run_test(size=SIZE) as pilot:
        user_id = await sign_in_anonymously(pilot)
        await library_loaded(pilot)
        await pilot.press("c")
        await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the clips screen")
        await _submit(pilot, "The free one")
        await until(pilot, lambda: badges(pilot, "#jobs", 1) == ["queued"], "the free clip")
        await _submit(pilot, "One too many")
        await until(
            pilot,
            lambda: sorted(badges(pilot, "#jobs", 1)) == ["insufficient credits", "queued"],
            "the refusal shown on the job",
        )
        bar = app.screen.query_one("#status-bar", Static)
        await until(pilot, lambda: "1 failed" in str(bar.render()), "the status bar says so")

        await pilot.press("q")
        await until(pilot, lambda: screen_name(pilot) == "QueueScreen", "the queue screen")
        rows = table_rows(pilot, "#dead")
        assert [(what, "insufficient_credits" in why) for what, why, _ in rows] == [
            ("submit clip", True)
        ]
        stack.grant_credits(user_id, 1)
        app.screen.query_one("#dead").focus()
        await pilot.press("r")
        await until(pilot, lambda: table_rows(pilot, "#dead") == [], "the retry went through")
        assert stack.rows(
            "SELECT prompt, status FROM public.clip_jobs WHERE user_id = %s ORDER BY prompt",
            user_id,
        ) == [("One too many", "queued"), ("The free one", "queued")]
        assert stack.credits(user_id) == (0, True)


async def test_the_library_shows_the_cached_projects_while_the_network_is_down(
    stack: AppStack, tmp_path: Path
) -> None:
    network = stack.network()
    config = stack.config(tmp_path, network)
    async with DirectorStudioApp(config).run_test(size=SIZE) as pilot:
        await sign_in_anonymously(pilot)
        await library_loaded(pilot)
        for prompt in ("Desert road", "City lights"):
            await quick_create(pilot, prompt)
        await until(pilot, lambda: badges(pilot, "#projects") == ["", ""], "both confirmed")

    network.cut()
    async with DirectorStudioApp(config).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "LibraryScreen", "the session resumed")
        # Shown from the cache: no answer from the server can arrive.
        cached = ["City lights", "Desert road"]
        await until(pilot, lambda: _titles(pilot) == cached, "the cached projects are shown")
        assert not pilot.app.screen.query_one("#empty", Static).display
        await library_loaded(pilot)
        projects = studio(pilot).require_session().projects
        assert projects.state.status == "offline"
        assert badges(pilot, "#projects") == ["", ""]
        status = str(pilot.app.screen.query_one("#library-status", Static).render())
        assert status.startswith("Offline: showing the cached library")
