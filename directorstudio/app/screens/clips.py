"""Clip jobs: status, a progress bar, credits, cancel, and the downloaded file's path."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label, ProgressBar, Static

from directorstudio.app.base import AppScreen, select_row, selected_key
from directorstudio.app.screens.dialogs import TextDialog
from directorstudio_client.viewmodels import ClipJobItem, ClipJobViewModel, Credits

PROMPT_WIDTH = 40


def credits_text(credits: Credits | None) -> str:
    """The credits line."""
    if credits is None:
        return "Credits: not known yet"
    free = " (the first clip is free)" if credits.free_clip_available else ""
    return f"Credits: {credits.credits}{free} · clips left: {credits.clips_left}"


class ClipsScreen(AppScreen[None]):
    """The user's clip jobs, newest first (ClipJobViewModel); completed clips are downloaded
    next to the cache."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "new", "New clip"),
        Binding("c", "cancel", "Cancel job"),
        Binding("r", "refresh_credits", "Credits"),
    ]

    def __init__(self, clips: ClipJobViewModel, select: str | None = None) -> None:
        super().__init__()
        self.clips = clips
        self._select_first = select

    def compose(self) -> ComposeResult:
        yield Label(credits_text(self.clips.state.credits), id="credits")
        table: DataTable[str] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        table.add_column("Prompt", key="prompt", width=PROMPT_WIDTH)
        table.add_column("Status", key="status", width=22)
        table.add_column("Done", key="progress", width=5)
        yield table
        yield Static("No clips yet: press n to render one.", id="no-jobs")
        yield Label("", id="job-status")
        yield ProgressBar(total=100, show_eta=False, id="job-progress")
        yield Static("", id="job-file")
        yield from self.chrome()

    def on_mount(self) -> None:
        self.follower.follow(self.clips)
        self.show_state()
        if self._select_first is not None:
            self.select(self._select_first)
        self.query_one("#jobs", DataTable).focus()
        self.in_background(self.clips.load_jobs, name="load_jobs")

    def show_state(self) -> None:
        state = self.clips.state
        self.query_one("#credits", Label).update(credits_text(state.credits))
        table: DataTable[str] = self.query_one("#jobs", DataTable)
        selected = self.selected()
        table.clear()
        for job in state.jobs:
            table.add_row(_prompt(job), job.label, f"{job.progress}%", key=job.id)
        self.select(selected)
        self.query_one("#no-jobs", Static).display = not state.jobs
        self._show_detail()
        self.studio.fetch_clips(state.jobs)

    def _show_detail(self) -> None:
        job_id = self.selected()
        job = self.clips.state.job(job_id) if job_id else None
        bar = self.query_one("#job-progress", ProgressBar)
        bar.display = job is not None
        status = self.query_one("#job-status", Label)
        file = self.query_one("#job-file", Static)
        if job is None:
            status.update("")
            file.update("")
            return
        bar.update(progress=job.progress)
        detail = f"{job.label}"
        if job.error is not None:
            detail += f": {job.error.message}"
        elif job.error_message:
            detail += f": {job.error_message}"
        status.update(detail)
        file.update(self._file_line(job))

    def _file_line(self, job: ClipJobItem) -> str:
        downloads = self.studio.downloads
        if not job.completed or downloads is None:
            return ""
        path = downloads.downloaded(job.id)
        if path is not None:
            return f"File: {path}"
        failure = downloads.failure(job.id)
        return f"Download failed ({failure}); it is tried again." if failure else "Downloading…"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def select(self, job_id: str | None) -> None:
        """Put the cursor on a job."""
        select_row(self.query_one("#jobs", DataTable), job_id)

    def selected(self) -> str | None:
        """The job under the cursor."""
        return selected_key(self.query_one("#jobs", DataTable))

    # --- actions ------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_new(self) -> None:
        def submitted(prompt: str | None) -> None:
            if prompt:
                job_id = self.attempt(lambda: self.clips.submit_clip(prompt))
                if job_id is not None:
                    self.select(job_id)

        self.app.push_screen(TextDialog("New clip", placeholder="What should the clip show?"),
                             submitted)  # fmt: skip

    def action_cancel(self) -> None:
        job_id = self.selected()
        if job_id is not None:
            self.attempt(lambda: self.clips.cancel_job(job_id))

    def action_refresh_credits(self) -> None:
        self.in_background(self.clips.refresh_credits, name="refresh_credits")


def _prompt(job: ClipJobItem) -> str:
    text = " ".join(job.prompt.split())
    return text if len(text) <= PROMPT_WIDTH else text[: PROMPT_WIDTH - 1] + "…"
