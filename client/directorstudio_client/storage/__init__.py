"""Local stores: the :class:`Storage` protocol, the SQLite file store and an in-memory store."""

from directorstudio_client.storage.memory import MemoryBacking, MemoryStorage
from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
    OutboxSummary,
    ProjectListRow,
    SceneListRow,
    TelemetryRecord,
)
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.storage.sqlite import SQLiteStorage

LocalStorageService = SQLiteStorage

__all__ = [
    "CachedRow",
    "ConflictRecord",
    "EntryState",
    "LocalStorageService",
    "MemoryBacking",
    "MemoryStorage",
    "OutboxEntry",
    "OutboxSummary",
    "ProjectListRow",
    "SQLiteStorage",
    "SceneListRow",
    "Storage",
    "TelemetryRecord",
]
