"""A conflict: the fields changed here and elsewhere side by side; keep mine, keep theirs, or
merge choosing per field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Label, Static

from directorstudio.app.base import AppScreen
from directorstudio_client.viewmodels import (
    ConflictView,
    FieldChoice,
    Resolution,
    SceneEditorViewModel,
)

VALUE_WIDTH = 34
WHAT = {"scene_drafts": "scene", "project_overview": "project"}


@dataclass(frozen=True)
class Choice:
    """What the user chose for a conflict."""

    conflict_id: str
    resolution: Resolution
    fields: dict[str, FieldChoice] | None


def _value(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):g}"
    text = " ".join(str(value).split()) if value is not None else "(empty)"
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


class ConflictScreen(AppScreen[Choice | None]):
    """One open conflict of the scene editor (SceneEditorViewModel.resolve_conflict)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Decide later"),
        Binding("m", "resolve('keep_local')", "Keep mine"),
        Binding("t", "resolve('keep_remote')", "Keep theirs"),
        Binding("space", "switch_side", "Mine/theirs"),
        Binding("g", "resolve('merge')", "Merge"),
    ]

    def __init__(self, editor: SceneEditorViewModel, conflict_id: str) -> None:
        super().__init__()
        self.editor = editor
        self.conflict_id = conflict_id
        first = editor.state.conflict(conflict_id)
        self._row = (first.table, first.row_id) if first else None
        self.choices: dict[str, FieldChoice] = {}
        self._closing = False

    @property
    def conflict(self) -> ConflictView | None:
        """The open conflict of this screen's row (a newer pull may have replaced it)."""
        state = self.editor.state
        found = state.conflict(self.conflict_id)
        if found is None:
            found = next((c for c in state.conflicts if (c.table, c.row_id) == self._row), None)
            if found is not None:
                self.conflict_id = found.conflict_id
        return found

    def compose(self) -> ComposeResult:
        conflict = self.conflict
        what = WHAT.get(conflict.table, conflict.table) if conflict else "row"
        yield Label(f"This {what} was changed here and on another device.", id="conflict-title")
        yield Static(
            "Choose a side for every field (space switches the field under the cursor), "
            "then merge; or keep one side whole.",
            id="conflict-help",
        )
        table: DataTable[str] = DataTable(id="fields", cursor_type="row")
        table.add_column("Field", key="field", width=14)
        table.add_column("Mine", key="mine", width=VALUE_WIDTH)
        table.add_column("Theirs", key="theirs", width=VALUE_WIDTH)
        table.add_column("Keep", key="keep", width=7)
        yield table
        with Horizontal(classes="dialog-buttons"):
            yield Button("Keep mine", id="keep_local")
            yield Button("Keep theirs", id="keep_remote")
            yield Button("Merge", variant="primary", id="merge")
        yield from self.chrome()

    def on_mount(self) -> None:
        self.follower.follow(self.editor)
        conflict = self.conflict
        if conflict is not None:
            self.choices = {diff.field: FieldChoice.MINE for diff in conflict.fields}
        self.show_state()
        self.query_one("#fields", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Shown again (an installed screen is kept): it may be closed again."""
        self._closing = False
        self.show_state()

    def show_state(self) -> None:
        conflict = self.conflict
        if conflict is None:  # resolved (here or by a pull): nothing left to choose
            self.call_later(self._close)
            return
        table: DataTable[str] = self.query_one("#fields", DataTable)
        cursor = table.cursor_row
        table.clear()
        for diff in conflict.fields:
            choice = self.choices.setdefault(diff.field, FieldChoice.MINE)
            table.add_row(
                diff.field, _value(diff.mine), _value(diff.theirs),
                "mine" if choice == FieldChoice.MINE else "theirs", key=diff.field,
            )  # fmt: skip
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def action_switch_side(self) -> None:
        table: DataTable[str] = self.query_one("#fields", DataTable)
        if table.row_count == 0:
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        name = str(row_key.value)
        current = self.choices.get(name, FieldChoice.MINE)
        self.choices[name] = FieldChoice.THEIRS if current == FieldChoice.MINE else FieldChoice.MINE
        self.show_state()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_switch_side()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_resolve(event.button.id or "merge")

    def action_resolve(self, how: str) -> None:
        """Leave with the user's choice; the editor applies it (once this screen is gone, so
        the changes it makes are not delivered to a closing screen)."""
        resolution = Resolution(how)
        fields = dict(self.choices) if resolution == Resolution.MERGE else None
        self._close(Choice(self.conflict_id, resolution, fields))

    def action_back(self) -> None:
        self._close()

    def _close(self, outcome: Choice | None = None) -> None:
        """Leave the screen once, with the user's choice (``None``: decide later)."""
        if not self._closing and self.is_current:
            self._closing = True
            self.dismiss(outcome)
