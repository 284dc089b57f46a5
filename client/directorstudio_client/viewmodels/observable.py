"""Observable state: what every ViewModel shares.

A ViewModel holds one immutable state object (a frozen dataclass) and replaces it whole on
every change; ``subscribe(callback)`` calls ``callback(new_state)`` after each replacement that
changed something and returns the function that stops it. Callbacks run on the thread that made
the change (the UI's for local writes, the sync loop's for server changes), so a UI hands them
to its own thread (Textual: ``App.call_from_thread``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.storage.protocol import Storage

S = TypeVar("S")
StateListener = Callable[[S], None]
Unsubscribe = Callable[[], None]


class TelemetrySink(Protocol):
    """Where ViewModels report their telemetry events (the client's ``TelemetryEmitter``)."""

    def emit(self, event: str, *, success: bool = True) -> None:
        """Count one event, as a success unless ``success`` is false."""
        ...


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """A documented error code (``directorstudio.contracts.errors``) and its message."""

    code: str
    message: str

    @property
    def offline(self) -> bool:
        """Whether the backend could not be reached (the cached data is still shown)."""
        return self.code == ErrorCode.UNAVAILABLE

    @classmethod
    def of(cls, error: DirectorStudioError) -> ErrorInfo:
        """The error a :class:`DirectorStudioError` reports."""
        return cls(str(error.code), error.message)

    @classmethod
    def from_json(cls, error: dict[str, Any] | None) -> ErrorInfo | None:
        """An outbox entry's ``last_error`` (``{code, message}``), or ``None``."""
        if not error:
            return None
        return cls(str(error.get("code") or ErrorCode.INTERNAL), str(error.get("message") or ""))


class Observable(Generic[S]):
    """Holds an immutable state, tells subscribers about each new one, listens to the store."""

    def __init__(self, initial: S) -> None:
        self._state = initial
        self._listeners: list[StateListener[S]] = []
        self._state_lock = threading.RLock()
        self._sources: list[Unsubscribe] = []
        self._seen_generation = -1
        self._published_read = -1

    @property
    def state(self) -> S:
        """The current state (immutable)."""
        return self._state

    def subscribe(self, callback: StateListener[S]) -> Unsubscribe:
        """Call ``callback(state)`` after every change of the state; returns the unsubscribe
        function. The current state is not sent: read :attr:`state` for it."""
        with self._state_lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._state_lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def close(self) -> None:
        """Stop listening to the store and drop every subscriber."""
        with self._state_lock:
            sources, self._sources = self._sources, []
            self._listeners.clear()
        for stop in sources:
            stop()

    # --- for the ViewModels -------------------------------------------------------------------
    def _publish(self, new_state: S) -> S:
        """Replace the state; subscribers hear of it when it differs from the previous one."""
        with self._state_lock:
            changed = new_state != self._state
            self._state = new_state
            listeners = list(self._listeners) if changed else []
        for listener in listeners:
            listener(new_state)
        return new_state

    def _update(self, **changes: Any) -> S:
        """Publish the current state with some fields replaced."""
        with self._state_lock:
            return self._publish(dataclasses.replace(self._state, **changes))  # type: ignore[type-var]

    def _publish_read(
        self, storage: Storage, read: Callable[[], Mapping[str, Any]], **changes: Any
    ) -> S:
        """Publish the fields ``read()`` returns from the store, with ``changes``.

        Reads run on several threads (the sync loop's after a pull, the UI's after a local
        write or a load); one that started before another was published is older than it, so
        its fields are dropped (``changes`` still apply): a slow read never overwrites a newer
        one, which would leave the view stale until the next change.
        """
        generation = storage.generation  # taken first: the read sees at least this much
        fields = read()
        with self._state_lock:
            if generation >= self._published_read:
                self._published_read = generation
                changes = {**fields, **changes}
            return self._update(**changes)

    def _watch(self, storage: Storage, keys: Iterable[str], handler: Callable[[], object]) -> None:
        """Run ``handler()`` after each committed change of any of ``keys`` in the store."""

        def listener(_key: str) -> None:
            # One commit notifies each of its keys in turn: the first refresh saw all of it.
            generation = storage.generation
            if generation == self._seen_generation:
                return
            self._seen_generation = generation
            handler()

        for key in keys:
            self._sources.append(storage.subscribe(key, listener))
