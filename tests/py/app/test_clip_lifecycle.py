"""A clip's life in the app: submitted, queued, processing with its progress, completed with
the MP4 downloaded next to the cache; credits go down per clip, and a cancel refunds."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import pytest
from textual.widgets import Label, ProgressBar, Static

from directorstudio.app import DirectorStudioApp
from directorstudio.app.screens.clips import ClipsScreen
from tests.support.app_pilot import (
    badges,
    library_loaded,
    open_first_project,
    quick_create,
    sign_in_anonymously,
    studio,
)
from tests.support.app_stack import AppStack, screen_name, table_rows, until
from tests.support.stepped_render import CLIP_SECONDS

pytestmark = pytest.mark.anyio


def _text(pilot: object, selector: str) -> str:
    app = studio(pilot)  # type: ignore[arg-type]
    return str(app.screen.query_one(selector, Static).render())


async def test_a_clip_is_queued_then_processing_then_completed_with_a_playable_file(
    stack: AppStack, tmp_path: Path
) -> None:
    app = DirectorStudioApp(stack.config(tmp_path, stack.network()))
    async with app.run_test(size=(110, 34)) as pilot:
        user_id = await sign_in_anonymously(pilot)
        stack.grant_credits(user_id, 3)
        await library_loaded(pilot)
        await quick_create(pilot, "Gulls over the harbour")
        await open_first_project(pilot)
        await until(pilot, lambda: badges(pilot, "#scenes") == [""], "the scene is confirmed")
        await pilot.press("k")
        await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the clips screen")
        clips = app.require_session().clips
        await until(pilot, lambda: len(clips.state.jobs) == 1, "the job is listed")
        job_id = clips.state.jobs[0].id

        await until(pilot, lambda: stack.render.received(job_id), "the job reached the renderer")
        await until(pilot, lambda: badges(pilot, "#jobs", 1) == ["queued"], "shown queued")
        await until(pilot, lambda: "Credits: 3 " in _text(pilot, "#credits"), "the free clip")

        stack.render.report(job_id, "processing", progress=40)
        await until(pilot, lambda: badges(pilot, "#jobs", 1) == ["processing"], "processing")
        bar = app.screen.query_one("#job-progress", ProgressBar)
        assert (table_rows(pilot, "#jobs")[0][2], bar.progress) == ("40%", 40)

        rendered = stack.render.complete(job_id)
        await until(pilot, lambda: badges(pilot, "#jobs", 1) == ["completed"], "completed")
        await until(pilot, lambda: _text(pilot, "#job-file").startswith("File: "), "downloaded")
        path = Path(_text(pilot, "#job-file").removeprefix("File: "))
        assert path == app.config.user_dir(user_id) / "clips" / f"{job_id}.mp4"
        assert path.read_bytes() == rendered.read_bytes()
        _frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
        assert seconds == pytest.approx(CLIP_SECONDS, abs=0.1)
        assert path.read_bytes()[4:8] == b"ftyp"
        assert bar.progress == 100
        assert stack.credits(user_id) == (3, True)  # the first clip was the free one


async def test_a_second_clip_costs_a_credit_and_canceling_it_refunds_the_credit(
    stack: AppStack, tmp_path: Path
) -> None:
    app = DirectorStudioApp(stack.config(tmp_path, stack.network()))
    async with app.run_test(size=(110, 34)) as pilot:
        user_id = await sign_in_anonymously(pilot)
        stack.grant_credits(user_id, 2)
        await library_loaded(pilot)
        await pilot.press("c")
        await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the clips screen")
        clips = app.require_session().clips
        for prompt in ("A kite on the beach", "A storm coming in"):
            await pilot.press("n")
            await until(pilot, lambda: screen_name(pilot) == "TextDialog", "the prompt dialog")
            await pilot.press(*prompt, "enter")
            await until(pilot, lambda: screen_name(pilot) == "ClipsScreen", "the dialog closed")
        await until(pilot, lambda: len(clips.state.jobs) == 2, "both jobs listed")
        await until(pilot, lambda: badges(pilot, "#jobs", 1) == ["queued", "queued"], "accepted")
        await until(pilot, lambda: "Credits: 1 " in _text(pilot, "#credits"), "one credit used")
        assert stack.credits(user_id) == (1, True)

        second = next(j.id for j in clips.state.jobs if j.prompt == "A storm coming in")
        screen = app.screen
        assert isinstance(screen, ClipsScreen)
        screen.select(second)  # the user moves the cursor to the second job
        await pilot.pause()
        assert screen.selected() == second
        await pilot.press("c")
        await until(pilot, lambda: clips.state.job(second).status == "canceled", "canceled")  # type: ignore[union-attr]
        await until(pilot, lambda: "Credits: 2 " in _text(pilot, "#credits"), "the refund shown")
        assert stack.credits(user_id) == (2, True)
        assert stack.rows(
            "SELECT kind FROM public.credit_transactions WHERE clip_job_id = %s ORDER BY id",
            second,
        ) == [("consume",), ("refund",)]
        assert app.screen.query_one("#job-status", Label).render() is not None
