"""The sync status: online or not, the queue by state, dead letters, conflicts, realtime."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from directorstudio_client.storage.protocol import SYNC_KEY
from directorstudio_client.sync.service import SyncService
from directorstudio_client.viewmodels.items import DeadLetter
from directorstudio_client.viewmodels.observable import ErrorInfo, Observable

_NO_COUNTS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class StatusState:
    """What a status bar shows about sync."""

    online: bool | None = None
    """Whether the server was reached on the last attempt (``None``: not tried yet)."""
    counts: Mapping[str, int] = field(default_factory=lambda: _NO_COUNTS)
    """Outbox entries by state: ``pending``, ``in_flight``, ``retry_wait``, ``dead``."""
    dead_letters: tuple[DeadLetter, ...] = ()
    open_conflicts: int = 0
    last_sync_at: float | None = None
    """When the server last answered a push or a pull."""
    realtime: bool = False
    """Whether change hints are being received (else the client polls every 10 s)."""
    last_error: ErrorInfo | None = None
    oldest_pending_age: float | None = None

    @property
    def queued(self) -> int:
        """Changes waiting for the server (not counting dead letters)."""
        return sum(n for state, n in self.counts.items() if state != "dead")


class StatusViewModel(Observable[StatusState]):
    """The sync status, refreshed after every sync round and every change of the outbox or
    the conflict inbox; dead letters are retried or discarded from here."""

    def __init__(self, sync: SyncService) -> None:
        super().__init__(StatusState())
        self._sync = sync
        self._watch(sync.storage, (SYNC_KEY, "outbox", "conflicts"), self.refresh)
        self.refresh()

    def refresh(self) -> StatusState:
        """Read the status from the sync service."""
        return self._publish_read(self._sync.storage, self._read)

    def _read(self) -> dict[str, Any]:
        health = self._sync.health()
        synced = [t for t in (health.last_success_at, health.last_pull_at) if t is not None]
        online = self._sync.online
        return {
            "online": online,
            "counts": MappingProxyType(dict(health.counts)),
            "dead_letters": tuple(DeadLetter.of(e) for e in health.dead_entries),
            "open_conflicts": health.open_conflicts,
            "last_sync_at": max(synced, default=None),
            "realtime": health.realtime_active,
            # The service keeps its last error; it only says something while offline.
            "last_error": ErrorInfo.from_json(health.last_error) if online is False else None,
            "oldest_pending_age": health.oldest_pending_age,
        }

    def retry(self, entry_id: str) -> None:
        """Send a dead letter again (``not_found`` when it is not a dead letter)."""
        self._sync.retry_dead(entry_id)

    def discard(self, entry_id: str) -> None:
        """Drop a dead letter and undo its local effect (``not_found`` likewise)."""
        self._sync.discard_dead(entry_id)

    def sync_now(self) -> StatusState:
        """Push, pull and flush telemetry now. Blocks on the network."""
        self._sync.sync_now()
        return self.refresh()
