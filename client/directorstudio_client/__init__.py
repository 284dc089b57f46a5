"""DirectorStudio client library: local cache, durable outbox and sync with the backend.

Typical use::

    storage = SQLiteStorage("directorstudio.db")
    transport = SupabaseTransport(url, anon_key)
    user_id = transport.sign_in_with_password(email, password)
    sync = SyncService(storage, transport, user_id=user_id, client_id=client_id)
    sync.create_project("My film")   # visible locally at once, pushed when online
    sync.start()
    sync.health()
"""

from directorstudio_client.clock import Clock, ManualClock, SystemClock
from directorstudio_client.storage import (
    LocalStorageService,
    MemoryStorage,
    SQLiteStorage,
    Storage,
)
from directorstudio_client.sync import BackoffPolicy, QueueHealth, SyncHandle, SyncService
from directorstudio_client.telemetry import TelemetryEmitter
from directorstudio_client.transport import Transport

__all__ = [
    "BackoffPolicy",
    "Clock",
    "LocalStorageService",
    "ManualClock",
    "MemoryStorage",
    "QueueHealth",
    "SQLiteStorage",
    "Storage",
    "SyncHandle",
    "SyncService",
    "SystemClock",
    "TelemetryEmitter",
    "Transport",
]
