"""The scene editor of one project: create, edit, reorder from the keyboard, delete, render
a scene's clip; a conflict opens the conflict screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label, Static

from directorstudio.app.base import AppScreen, select_row, selected_key
from directorstudio.app.screens.dialogs import SceneDialog
from directorstudio.app.screens.library import STATUS_LINES, length_text
from directorstudio_client.viewmodels import SceneEditorViewModel, SceneItem

PROMPT_WIDTH = 52


class EditorScreen(AppScreen[None]):
    """One project's scenes in order (SceneEditorViewModel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Library"),
        Binding("n", "new", "New scene"),
        Binding("e", "edit", "Edit"),
        Binding("shift+up", "move(-1)", "Move up", priority=True),
        Binding("shift+down", "move(1)", "Move down", priority=True),
        Binding("x,delete", "delete", "Delete"),
        Binding("k", "render", "Render clip"),
        Binding("f", "conflicts", "Conflicts"),
    ]

    def __init__(self, editor: SceneEditorViewModel) -> None:
        super().__init__()
        self.editor = editor
        self._shown_conflicts: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        yield Label("", id="project-title")
        table: DataTable[str] = DataTable(id="scenes", cursor_type="row", zebra_stripes=True)
        table.add_column("#", key="order", width=3)
        table.add_column("Prompt", key="prompt", width=PROMPT_WIDTH)
        table.add_column("Length", key="length", width=6)
        table.add_column("Sync", key="sync", width=10)
        yield table
        yield Static("No scenes yet: press n to add the first one.", id="no-scenes")
        yield Static("", id="editor-status")
        yield from self.chrome()

    def on_mount(self) -> None:
        self.follower.follow(self.editor)
        self.show_state()
        self.query_one("#scenes", DataTable).focus()
        self.in_background(self.editor.load_scenes, name="load_scenes")

    def on_unmount(self) -> None:
        super().on_unmount()
        self.editor.close()

    def show_state(self) -> None:
        state = self.editor.state
        self.query_one("#project-title", Label).update(state.title or "Untitled project")
        table: DataTable[str] = self.query_one("#scenes", DataTable)
        selected = self.selected()
        table.clear()
        for position, scene in enumerate(state.scenes, start=1):
            table.add_row(
                str(position), _prompt_cell(scene), length_text(scene.duration), _badge(scene),
                key=scene.id,
            )  # fmt: skip
        self._select(selected)
        self.query_one("#no-scenes", Static).display = not state.scenes
        line = STATUS_LINES[state.status]
        if state.conflicts:
            line = f"{len(state.conflicts)} conflict(s) to resolve: press f. {line}"
        self.query_one("#editor-status", Static).update(line.strip())
        fresh = [c for c in state.conflicts if (c.table, c.row_id) not in self._shown_conflicts]
        self._shown_conflicts &= {(c.table, c.row_id) for c in state.conflicts}
        if fresh and self.is_current:
            self._shown_conflicts.update((c.table, c.row_id) for c in fresh)
            self.call_later(self.action_conflicts)

    def _select(self, scene_id: str | None) -> None:
        select_row(self.query_one("#scenes", DataTable), scene_id)

    def selected(self) -> str | None:
        """The scene under the cursor."""
        return selected_key(self.query_one("#scenes", DataTable))

    # --- actions ------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_new(self) -> None:
        def created(values: tuple[str, float] | None) -> None:
            if values is None:
                return
            prompt, duration = values
            scene_id = self.attempt(lambda: self.editor.create_scene_optimistic(prompt, duration))
            if scene_id is not None:
                self._select(scene_id)

        self.app.push_screen(SceneDialog("New scene"), created)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        scene_id = self.selected()
        scene = self.editor.state.scene(scene_id) if scene_id else None
        if scene is None:
            return

        def saved(values: tuple[str, float] | None) -> None:
            if values is None:
                return
            prompt, duration = values
            patch: dict[str, object] = {}
            if prompt != scene.prompt_text:
                patch["prompt_text"] = prompt
            if duration != scene.duration:
                patch["duration"] = duration
            if patch:
                self.attempt(lambda: self.editor.save_scene(scene.id, patch))

        self.app.push_screen(SceneDialog("Edit scene", scene.prompt_text, scene.duration), saved)

    def action_move(self, offset: int) -> None:
        scene_id = self.selected()
        if scene_id is not None:
            self.attempt(lambda: self.editor.move_scene(scene_id, offset))
            self._select(scene_id)

    def action_delete(self) -> None:
        scene_id = self.selected()
        if scene_id is not None:
            self.attempt(lambda: self.editor.delete_scene(scene_id))

    def action_render(self) -> None:
        from directorstudio.app.screens.clips import ClipsScreen

        scene_id = self.selected()
        scene = self.editor.state.scene(scene_id) if scene_id else None
        if scene is None:
            return
        clips = self.session.clips
        job_id = self.attempt(
            lambda: clips.submit_clip(
                scene.prompt_text, project_id=self.editor.project_id, scene_draft_id=scene.id
            )
        )
        if job_id is not None:
            self.app.push_screen(ClipsScreen(clips, select=job_id))

    def action_conflicts(self) -> None:
        from directorstudio.app.screens.conflict import Choice, ConflictScreen

        conflicts = self.editor.state.conflicts
        if not self.is_current:
            return
        if not conflicts:
            self.notify("No conflicts.")
            return

        def resolved(choice: Choice | None) -> None:
            if choice is None:
                return
            if self.attempt(
                lambda: self.editor.resolve_conflict(
                    choice.conflict_id, choice.resolution, choice.fields
                )
            ):
                self.notify(f"Conflict resolved: {choice.resolution.label.lower()}.")

        screen = ConflictScreen(self.editor, conflicts[0].conflict_id)
        # Installed, so that leaving it only suspends it (removing a screen that just handled
        # the key that closes it can stall Textual's pop); the app removes it when it ends.
        name = f"conflict-{conflicts[0].conflict_id}"
        if not self.app.is_screen_installed(name):
            self.app.install_screen(screen, name)
        self.app.push_screen(name, resolved)


def _prompt_cell(scene: SceneItem) -> str:
    text = " ".join(scene.prompt_text.split())
    return text if len(text) <= PROMPT_WIDTH else text[: PROMPT_WIDTH - 1] + "…"


def _badge(scene: SceneItem) -> str:
    if scene.error is not None:
        return f"{scene.badge}: {scene.error.code}"
    return scene.badge
