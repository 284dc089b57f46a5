"""The project library: the empty state, quick create, sample import and row actions."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from directorstudio.app.base import AppScreen, select_row, selected_key
from directorstudio.app.screens.dialogs import TextDialog
from directorstudio_client.viewmodels import LoadStatus, ProjectListState

EMPTY_MESSAGE = (
    "Your library is empty. Type what your film is about above and press Enter to create a "
    'project, or press i to import the sample project "The Lighthouse Keeper".'
)
STATUS_LINES = {
    LoadStatus.IDLE: "",
    LoadStatus.LOADING: "Loading… (showing the cached library)",
    LoadStatus.READY: "",
    LoadStatus.OFFLINE: "Offline: showing the cached library; changes are kept and sent later.",
    LoadStatus.ERROR: "The server answered with an error: showing the cached library.",
}


def length_text(seconds: float) -> str:
    """A duration as ``m:ss``."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class LibraryScreen(AppScreen[None]):
    """The user's projects, most recently changed first (ProjectListViewModel and
    ProjectRowViewModel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new", "New project"),
        Binding("i", "import_sample", "Import sample"),
        Binding("r", "rename", "Rename"),
        Binding("d", "duplicate", "Duplicate"),
        Binding("a", "archive", "Archive"),
        Binding("c", "clips", "Clips"),
    ]

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="New project: what is your film about? (Enter creates it)", id="quick"
        )
        yield Static(EMPTY_MESSAGE, id="empty")
        table: DataTable[str] = DataTable(id="projects", cursor_type="row", zebra_stripes=True)
        table.add_column("Title", key="title", width=44)
        table.add_column("Scenes", key="scenes", width=6)
        table.add_column("Length", key="length", width=6)
        table.add_column("Sync", key="sync", width=10)
        yield table
        yield Static("", id="library-status")
        yield from self.chrome()

    def on_mount(self) -> None:
        self.follower.follow(self.session.projects)
        self.session.projects.refresh()  # the cached library at once, never a flash of "empty"
        self.show_state()
        self.query_one("#projects", DataTable).focus()
        self.in_background(self.session.projects.load_list, name="load_list")

    def show_state(self) -> None:
        state = self.session.projects.state
        self._fill(state)
        self.query_one("#empty", Static).display = state.empty
        self.query_one("#projects", DataTable).display = not state.empty
        line = STATUS_LINES[state.status]
        if state.error is not None and state.status == LoadStatus.ERROR:
            line = f"{line} {state.error.message}"
        self.query_one("#library-status", Static).update(line)

    def _fill(self, state: ProjectListState) -> None:
        table: DataTable[str] = self.query_one("#projects", DataTable)
        selected = self.selected()
        table.clear()
        for item in state.items:
            badge = item.badge
            if item.error is not None:
                badge = f"{badge}: {item.error.code}"
            table.add_row(
                item.title, str(item.scene_count), length_text(item.total_duration), badge,
                key=item.project_id,
            )  # fmt: skip
        self._select(selected)

    def _select(self, project_id: str | None) -> None:
        select_row(self.query_one("#projects", DataTable), project_id)

    def selected(self) -> str | None:
        """The project under the cursor."""
        return selected_key(self.query_one("#projects", DataTable))

    # --- actions ------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        prompt = event.value.strip()
        project_id = self.attempt(lambda: self.session.projects.create_project_quick(prompt))
        event.input.value = ""
        if project_id is not None:
            table: DataTable[str] = self.query_one("#projects", DataTable)
            table.focus()
            self._select(project_id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._open(event.row_key.value)

    def action_new(self) -> None:
        self.query_one("#quick", Input).focus()

    def action_open(self) -> None:
        project_id = self.selected()
        if project_id is not None:
            self._open(project_id)

    def _open(self, project_id: str) -> None:
        from directorstudio.app.screens.editor import EditorScreen

        editor = self.attempt(lambda: self.session.rows.open_project(project_id))
        if editor is not None:
            self.app.push_screen(EditorScreen(editor))

    def action_import_sample(self) -> None:
        def imported(project_id: str | None) -> None:
            if project_id is not None:
                self._select(project_id)
                self.notify("Imported the sample project.")

        self.in_background(self.session.projects.import_sample, imported, name="import_sample")

    def action_rename(self) -> None:
        project_id = self.selected()
        item = self.session.projects.state.item(project_id) if project_id else None
        if item is None:
            return

        def renamed(title: str | None) -> None:
            if title is not None:
                self.attempt(lambda: self.session.rows.rename(item.project_id, title))

        self.app.push_screen(TextDialog("Rename project", item.title), renamed)

    def action_duplicate(self) -> None:
        project_id = self.selected()
        if project_id is not None:
            copy = self.attempt(lambda: self.session.rows.duplicate(project_id))
            if copy is not None:
                self._select(copy)

    def action_archive(self) -> None:
        project_id = self.selected()
        if project_id is None:
            return
        if self.attempt(lambda: self.session.rows.archive(project_id)) is not None:
            self.notify("Archived.")

    def action_clips(self) -> None:
        from directorstudio.app.screens.clips import ClipsScreen

        self.app.push_screen(ClipsScreen(self.session.clips))
