"""The sync queue: the status in full, and the dead letters to retry or discard."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label, Static

from directorstudio.app.base import AppScreen, clock_text, selected_key
from directorstudio_client.viewmodels import DeadLetter, StatusState

STATES = ("pending", "in_flight", "retry_wait", "dead")
WHAT = {
    ("project_overview", "upsert"): "create project",
    ("project_overview", "rename"): "rename project",
    ("project_overview", "archive"): "archive project",
    ("project_overview", "duplicate"): "duplicate project",
    ("scene_drafts", "create"): "create scene",
    ("scene_drafts", "update"): "edit scene",
    ("scene_drafts", "delete"): "delete scene",
    ("scene_drafts", "reorder"): "reorder scenes",
    ("clip_jobs", "enqueue"): "submit clip",
    ("clip_jobs", "cancel"): "cancel clip",
}


REACH = {None: "not tried yet", True: "reached", False: "unreachable"}


def describe(letter: DeadLetter) -> str:
    """What a dead letter was meant to do."""
    return WHAT.get((letter.table, letter.op), f"{letter.op} {letter.table}")


def summary_text(state: StatusState) -> str:
    """The queue's state in full."""
    counts = ", ".join(f"{name.replace('_', ' ')} {state.counts.get(name, 0)}" for name in STATES)
    lines = [
        f"Server: {REACH[state.online]}",
        f"Change hints: {'realtime' if state.realtime else 'polling every 10 s'}",
        f"Queue: {counts}",
        f"Open conflicts: {state.open_conflicts}",
        f"Last sync: {clock_text(state.last_sync_at)}",
    ]
    if state.last_error is not None:
        lines.append(f"Last error: {state.last_error.message} ({state.last_error.code})")
    return "\n".join(lines)


class QueueScreen(AppScreen[None]):
    """Changes the server rejected, kept until the user chooses (StatusViewModel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "retry", "Retry"),
        Binding("x", "discard", "Discard"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("Sync queue", id="queue-title")
        yield Static("", id="queue-summary")
        table: DataTable[str] = DataTable(id="dead", cursor_type="row")
        table.add_column("Change", key="what", width=18)
        table.add_column("Refused because", key="error", width=50)
        table.add_column("Tries", key="attempts", width=5)
        yield table
        yield Static("Nothing was refused by the server.", id="no-dead")
        yield from self.chrome()

    def on_mount(self) -> None:
        self.follower.follow(self.session.status)
        self.show_state()
        self.query_one("#dead", DataTable).focus()

    def show_state(self) -> None:
        state = self.session.status.state
        self.query_one("#queue-summary", Static).update(summary_text(state))
        table: DataTable[str] = self.query_one("#dead", DataTable)
        cursor = table.cursor_row
        table.clear()
        for letter in state.dead_letters:
            reason = f"{letter.error.message} ({letter.error.code})" if letter.error else "refused"
            table.add_row(describe(letter), reason, str(letter.attempts), key=letter.entry_id)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        self.query_one("#no-dead", Static).display = not state.dead_letters

    def selected(self) -> str | None:
        """The dead letter under the cursor."""
        return selected_key(self.query_one("#dead", DataTable))

    def action_retry(self) -> None:
        entry_id = self.selected()
        if entry_id is not None:
            self.attempt(lambda: self.session.status.retry(entry_id))

    def action_discard(self) -> None:
        entry_id = self.selected()
        if entry_id is not None:
            self.attempt(lambda: self.session.status.discard(entry_id))

    def action_back(self) -> None:
        self.app.pop_screen()
