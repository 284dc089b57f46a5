"""The immutable items ViewModels show, and each row's sync state read from the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from directorstudio.contracts.errors import ErrorCode
from directorstudio_client.storage.models import (
    ConflictRecord,
    OutboxEntry,
    ProjectListRow,
    SceneListRow,
)
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.viewmodels.observable import ErrorInfo


class LoadStatus(StrEnum):
    """Where a list is in loading: the cached rows are shown in every status."""

    IDLE = "idle"
    """Nothing loaded yet (the cached rows are shown as they are)."""
    LOADING = "loading"
    """The cache is shown; the server is being asked for what changed."""
    READY = "ready"
    """The cache is reconciled with the server."""
    OFFLINE = "offline"
    """The server could not be reached: the cache is shown, writes wait in the outbox."""
    ERROR = "error"
    """The server answered with an error (``error`` says which)."""


class SyncState(StrEnum):
    """How far a row's local changes have got."""

    PENDING = "pending"
    """Local changes wait for the server (shown as *saving*)."""
    CONFIRMED = "confirmed"
    """The server holds what is shown."""
    CONFLICT = "conflict"
    """Changed here and elsewhere: a conflict waits for the user's choice."""
    DEAD = "dead"
    """The server rejected a change (``error`` says why); retry or discard it."""


BADGES = {
    SyncState.PENDING: "Saving…",
    SyncState.CONFIRMED: "",
    SyncState.CONFLICT: "Conflict",
    SyncState.DEAD: "Failed",
}


@dataclass(frozen=True)
class RowSync:
    """A row's sync state and, when dead, the server's reason."""

    state: SyncState = SyncState.CONFIRMED
    error: ErrorInfo | None = None


class SyncIndex:
    """The outbox and the conflict inbox as they concern some rows of one table, read once
    (indexed lookups) so a whole list's sync states cost a few queries."""

    def __init__(self, storage: Storage, table: str, row_ids: list[str]) -> None:
        self._table = table
        self._open = storage.rows_with_open_entries(table, row_ids) if row_ids else set()
        self._conflicts = {c.id for c in storage.get_conflicts() if c.table == table}
        self._dead: dict[str, OutboxEntry] = {}
        for entry in storage.get_dead_sync_entries():
            if entry.table == table:
                for row_id in entry.touched_row_ids():
                    self._dead.setdefault(row_id, entry)

    def of(self, row_id: str) -> RowSync:
        """The sync state of one row: dead, else conflict, else pending, else confirmed."""
        dead = self._dead.get(row_id)
        if dead is not None:
            return RowSync(SyncState.DEAD, ErrorInfo.from_json(dead.last_error))
        if row_id in self._conflicts:
            return _IN_CONFLICT
        if row_id in self._open:
            return _PENDING
        return _CONFIRMED


_CONFIRMED = RowSync(SyncState.CONFIRMED)
_PENDING = RowSync(SyncState.PENDING)
_IN_CONFLICT = RowSync(SyncState.CONFLICT)


@dataclass(frozen=True, slots=True)
class ProjectItem:
    """One project of the library."""

    project_id: str
    title: str
    archived: bool = False
    scene_count: int = 0
    total_duration: float = 0.0
    last_updated: str | None = None
    sync_state: SyncState = SyncState.CONFIRMED
    error: ErrorInfo | None = None
    """Why the server rejected the last change (when ``sync_state`` is dead)."""

    @property
    def saving(self) -> bool:
        """Whether the item shows *saving* (not yet confirmed by the server)."""
        return self.sync_state == SyncState.PENDING

    @property
    def badge(self) -> str:
        """The item's sync badge: ``Saving…``, ``Failed``, ``Conflict`` or nothing."""
        return BADGES[self.sync_state]

    @classmethod
    def of(cls, row: ProjectListRow, sync: RowSync) -> ProjectItem:
        """The item for a project of the library's list read."""
        return cls(
            project_id=row.project_id,
            title=row.title or "Untitled project",
            archived=bool(row.archived),
            scene_count=int(row.scene_count or 0),
            total_duration=float(row.total_duration or 0.0),
            last_updated=row.last_updated,
            sync_state=sync.state,
            error=sync.error,
        )


@dataclass(frozen=True, slots=True)
class SceneItem:
    """One scene draft of the editor, in order."""

    id: str
    project_id: str
    order_index: int
    prompt_text: str
    duration: float
    scene_type: str | None = None
    shot_type: str | None = None
    sync_state: SyncState = SyncState.CONFIRMED
    error: ErrorInfo | None = None

    @property
    def badge(self) -> str:
        """The scene's sync badge."""
        return BADGES[self.sync_state]

    @classmethod
    def of(cls, row: SceneListRow, sync: RowSync) -> SceneItem:
        """The item for a scene of the editor's list read."""
        return cls(
            id=row.id,
            project_id=row.project_id or "",
            order_index=int(row.order_index or 0),
            prompt_text=row.prompt_text or "",
            duration=float(row.duration or 0.0),
            scene_type=row.scene_type,
            shot_type=row.shot_type,
            sync_state=sync.state,
            error=sync.error,
        )


FINAL_CLIP_STATUSES = frozenset({"completed", "failed", "canceled"})


@dataclass(frozen=True, slots=True)
class ClipJobItem:
    """One clip render: its status, progress and, once completed, its download URL."""

    id: str
    prompt: str
    status: str
    """``queued``, ``processing``, ``completed``, ``failed`` or ``canceled``."""
    progress: int = 0
    download_url: str | None = None
    error_message: str | None = None
    project_id: str | None = None
    scene_draft_id: str | None = None
    user_key: str | None = None
    submitted_at: str | None = None
    sync_state: SyncState = SyncState.CONFIRMED
    error: ErrorInfo | None = None
    """Why the server refused the submission or the cancel (when ``sync_state`` is dead)."""

    @property
    def insufficient_credits(self) -> bool:
        """Whether the server refused the job for lack of credits (nothing was charged)."""
        return self.error is not None and self.error.code == ErrorCode.INSUFFICIENT_CREDITS

    @property
    def completed(self) -> bool:
        """Whether the clip is rendered (``download_url`` is set)."""
        return self.status == "completed"

    @property
    def final(self) -> bool:
        """Whether the job will not change any more."""
        return self.status in FINAL_CLIP_STATUSES or self.sync_state == SyncState.DEAD

    @property
    def cancelable(self) -> bool:
        """Whether :meth:`ClipJobViewModel.cancel_job` applies."""
        return self.status in ("queued", "processing") and self.sync_state != SyncState.DEAD

    @property
    def label(self) -> str:
        """What to show as the job's status."""
        if self.insufficient_credits:
            return "insufficient credits"
        if self.sync_state == SyncState.DEAD:
            return "rejected"
        if self.sync_state == SyncState.PENDING and self.status == "queued":
            return "queued (not sent yet)"
        return self.status

    @classmethod
    def of(cls, row: dict[str, Any], sync: RowSync) -> ClipJobItem:
        """The item for a cached clip job row."""
        return cls(
            id=str(row["id"]),
            prompt=str(row.get("prompt") or ""),
            status=str(row.get("status") or "queued"),
            progress=int(row.get("progress") or 0),
            download_url=row.get("download_url"),
            error_message=row.get("error_message"),
            project_id=row.get("project_id"),
            scene_draft_id=row.get("scene_draft_id"),
            user_key=row.get("user_key"),
            submitted_at=None if row.get("submitted_at") is None else str(row["submitted_at"]),
            sync_state=sync.state,
            error=sync.error,
        )


@dataclass(frozen=True)
class Credits:
    """A credits account as last read from the server."""

    user_key: str
    credits: int
    free_clip_available: bool
    checked_at: float

    @property
    def clips_left(self) -> int:
        """How many clips can still be submitted: the credits plus the free first clip."""
        return self.credits + (1 if self.free_clip_available else 0)

    @classmethod
    def of(cls, row: dict[str, Any], checked_at: float) -> Credits:
        """From a ``credits_ledger`` row."""
        return cls(
            user_key=str(row["user_key"]),
            credits=int(row.get("credits") or 0),
            free_clip_available=bool(row.get("first_clip_granted"))
            and not bool(row.get("first_clip_consumed")),
            checked_at=checked_at,
        )


class Resolution(StrEnum):
    """The user's choices for a conflict (values as ``resolve_conflict`` takes them)."""

    KEEP_MINE = "keep_local"
    KEEP_THEIRS = "keep_remote"
    MERGE = "merge"

    @property
    def label(self) -> str:
        """How a UI names the choice."""
        return {"keep_local": "Keep mine", "keep_remote": "Keep theirs", "merge": "Merge"}[self]


class FieldChoice(StrEnum):
    """Per field of a merge: this device's value or the server's."""

    MINE = "local"
    THEIRS = "remote"


@dataclass(frozen=True)
class FieldDiff:
    """One field changed both here and elsewhere."""

    field: str
    mine: Any
    theirs: Any


@dataclass(frozen=True)
class ConflictView:
    """An open conflict: the differing fields side by side and the choices."""

    conflict_id: str
    table: str
    row_id: str
    fields: tuple[FieldDiff, ...]
    choices: tuple[Resolution, ...]
    created_at: float

    @classmethod
    def of(cls, conflict: ConflictRecord) -> ConflictView:
        """From a record of the client's conflict inbox."""
        return cls(
            conflict_id=conflict.conflict_id,
            table=conflict.table,
            row_id=conflict.id,
            fields=tuple(
                FieldDiff(name, conflict.local.get(name), conflict.remote.get(name))
                for name in conflict.diff_fields
            ),
            choices=tuple(Resolution(c) for c in conflict.resolution_choices),
            created_at=conflict.created_at,
        )


@dataclass(frozen=True)
class DeadLetter:
    """A change the server rejected, kept until the user retries or discards it."""

    entry_id: str
    table: str
    op: str
    row_id: str
    error: ErrorInfo | None
    attempts: int
    created_at: float

    @classmethod
    def of(cls, entry: OutboxEntry) -> DeadLetter:
        """From a dead outbox entry."""
        return cls(
            entry_id=entry.entry_id,
            table=entry.table,
            op=entry.op,
            row_id=entry.row_id,
            error=ErrorInfo.from_json(entry.last_error),
            attempts=entry.attempts,
            created_at=entry.created_at,
        )
