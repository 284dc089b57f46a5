"""What every screen shares: following ViewModels from any thread, running blocking calls
off the UI thread, and the status bar."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio_client.viewmodels import AppSession, Observable, StatusState

if TYPE_CHECKING:
    from directorstudio.app.main import DirectorStudioApp

T = TypeVar("T")
R = TypeVar("R")


class StateChanged(Message):
    """A followed ViewModel published a new state (possibly from the sync loop's thread)."""


class Follower:
    """Subscribes a widget to ViewModels; each change posts one :class:`StateChanged` to it
    (``post_message`` is thread-safe), coalesced until the widget has handled the last one."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self._pending = False
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []

    def follow(self, model: Observable[Any]) -> None:
        self._stops.append(model.subscribe(self._changed))

    def _changed(self, _state: object) -> None:
        with self._lock:
            if self._pending:
                return
            self._pending = True
        self._target.post_message(StateChanged())

    def handled(self) -> None:
        with self._lock:
            self._pending = False

    def stop(self) -> None:
        stops, self._stops = self._stops, []
        for stop in stops:
            stop()


def clock_text(when: float | None) -> str:
    """A time of day for the status bar (``never`` when there is none)."""
    return "never" if when is None else time.strftime("%H:%M:%S", time.localtime(when))


def status_text(state: StatusState) -> str:
    """The status bar's line for a status state."""
    reach = {None: "connecting…", True: "online", False: "offline"}[state.online]
    parts = [reach, "realtime on" if state.realtime else "polling every 10 s"]
    parts.append(f"{state.queued} queued")
    dead = len(state.dead_letters)
    if dead:
        parts.append(f"{dead} failed (q: queue)")
    if state.open_conflicts:
        parts.append(f"{state.open_conflicts} conflict{'s' if state.open_conflicts > 1 else ''}")
    parts.append(f"last sync {clock_text(state.last_sync_at)}")
    return " · ".join(parts)


class StatusBar(Static):
    """One line: online or offline, realtime or polling, queue, dead letters, conflicts, last
    sync (the StatusViewModel)."""

    def __init__(self, session: AppSession) -> None:
        super().__init__(status_text(session.status.state), id="status-bar")
        self._session = session
        self._follower = Follower(self)

    def on_mount(self) -> None:
        self._follower.follow(self._session.status)
        self._show()

    def on_unmount(self) -> None:
        self._follower.stop()

    def on_state_changed(self, message: StateChanged) -> None:
        message.stop()
        self._follower.handled()
        self._show()

    def _show(self) -> None:
        state = self._session.status.state
        self.set_class(state.online is False, "offline")
        self.set_class(bool(state.dead_letters or state.open_conflicts), "attention")
        self.update(status_text(state))


class AppScreen(Screen[R], Generic[R]):
    """A screen of the signed-in app: follows ViewModels, shows the status bar and footer."""

    def __init__(self) -> None:
        super().__init__()
        self.follower = Follower(self)

    @property
    def studio(self) -> DirectorStudioApp:
        from directorstudio.app.main import DirectorStudioApp

        app = self.app
        assert isinstance(app, DirectorStudioApp)
        return app

    @property
    def session(self) -> AppSession:
        return self.studio.require_session()

    def chrome(self) -> ComposeResult:
        """The status bar and the key footer, yielded last by every screen."""
        yield StatusBar(self.session)
        yield Footer()

    def on_unmount(self) -> None:
        self.follower.stop()

    def on_state_changed(self, message: StateChanged) -> None:
        message.stop()
        self.follower.handled()
        self.show_state()

    def show_state(self) -> None:
        """Render the followed ViewModels' current states."""

    def in_background(
        self, call: Callable[[], T], done: Callable[[T], None] | None = None, *, name: str = ""
    ) -> None:
        """Run a blocking ViewModel call in a worker thread; ``done`` gets its result on the UI
        thread; a DirectorStudioError is shown as a notification."""

        def work() -> None:
            try:
                result = call()
            except DirectorStudioError as error:
                self.app.call_from_thread(self.report, error)
                return
            if done is not None:
                self.app.call_from_thread(done, result)

        self.run_worker(work, thread=True, name=name or getattr(call, "__name__", "call"))

    def report(self, error: DirectorStudioError) -> None:
        """Tell the user what went wrong."""
        self.notify(f"{error.message} ({error.code})", severity="error", timeout=6)

    def attempt(self, call: Callable[[], T]) -> T | None:
        """Run a local (non-blocking) ViewModel call; errors are shown, not raised."""
        try:
            return call()
        except DirectorStudioError as error:
            self.report(error)
            return None


def select_row(table: DataTable[Any], key: str | None) -> None:
    """Put a table's cursor on the row ``key`` (when it is there)."""
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key))


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under a table's cursor."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value
