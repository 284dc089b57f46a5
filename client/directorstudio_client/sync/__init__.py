"""The sync engine: outbox drain, delta pull, reconcile and conflicts."""

from directorstudio_client.sync.backoff import BackoffPolicy
from directorstudio_client.sync.service import QueueHealth, RoundReport, SyncService
from directorstudio_client.sync.writes import SyncHandle

__all__ = ["BackoffPolicy", "QueueHealth", "RoundReport", "SyncHandle", "SyncService"]
