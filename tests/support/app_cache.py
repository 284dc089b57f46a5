"""A device's app folder as an earlier launch left it, with fixed data: the stored session of a
fixed user and a cache holding what a pull brought (projects, scenes, clip jobs, credits), a
conflict waiting for a choice and a change the server refused. The snapshot tests start the app
on it offline, so every screen shows exactly this data, and a clock that stands still."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt

from directorstudio.app.config import AppConfig
from directorstudio.app.main import CACHE_FILE
from directorstudio.app.session import SessionStore, StoredSession
from directorstudio.contracts.tables import CLIP_JOBS, PROJECTS, SCENE_DRAFTS
from directorstudio_client.storage.models import CachedRow, ConflictRecord, EntryState, OutboxEntry
from directorstudio_client.storage.sqlite import SQLiteStorage
from directorstudio_client.viewmodels.clips import CREDITS_META

USER = "00000000-0000-4000-8000-00000000a11c"
NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC
FOREVER = 4_102_444_800  # 2100-01-01: the stored access token never needs a refresh


class StillClock:
    """A clock that stands at ``NOW``: no retry, poll or refresh ever comes due, so the app
    stays as it is once its first offline round is over. Waits still take real time (the sync
    loop waits on its events; nothing spins)."""

    def now(self) -> float:
        return NOW

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(timeout)


@contextmanager
def refused_url() -> Iterator[str]:
    """A loopback URL where every connection is refused (a port bound, never listened on)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):
            holder.close()


def offline_config(folder: Path, url: str) -> AppConfig:
    """An app instance on ``url`` with the still clock."""
    return AppConfig(url=url, anon_key="anon", cache_dir=folder, clock=StillClock())


def sign_in_stored(config: AppConfig) -> None:
    """Store the fixed user's session, as a sign-in on an earlier launch did."""
    token = jwt.encode(
        {"sub": USER, "aud": "authenticated", "role": "authenticated", "exp": FOREVER},
        "not-the-server-secret",
        algorithm="HS256",
    )
    SessionStore(config.backend_dir).save(
        StoredSession(USER, token, "refresh-token", float(FOREVER), "ada@example.com")
    )


@contextmanager
def cache(config: AppConfig) -> Iterator[SQLiteStorage]:
    """The fixed user's cache file, opened for seeding (closed before the app opens it)."""
    folder = config.user_dir(USER)
    folder.mkdir(parents=True, exist_ok=True)
    storage = SQLiteStorage(str(folder / CACHE_FILE))
    try:
        yield storage
    finally:
        storage.close()


def _pulled(table: str, row_id: str, row: dict[str, Any], version: int = 2) -> CachedRow:
    return CachedRow(table, row_id, dict(row), server_row=dict(row), version=version)


def project(
    storage: SQLiteStorage, project_id: str, title: str, *, updated: str,
    scenes: int = 0, seconds: float = 0.0,
) -> None:  # fmt: skip
    """A project as pulled from the server."""
    row = {
        "project_id": project_id, "user_id": USER, "title": title, "archived": False,
        "scene_count": scenes, "total_duration": seconds, "project_created_at": updated,
        "last_updated": updated, "deleted_at": None,
    }  # fmt: skip
    storage.put_row(_pulled(PROJECTS.name, project_id, row))


def scene(
    storage: SQLiteStorage, scene_id: str, project_id: str, order: int, prompt: str,
    seconds: float,
) -> dict[str, Any]:  # fmt: skip
    """A scene draft as pulled from the server; its row."""
    row = {
        "id": scene_id, "user_id": USER, "project_id": project_id, "order_index": order,
        "prompt_text": prompt, "duration": seconds, "archived": False,
        "created_at": f"2026-12-01T10:00:0{order}+00:00", "deleted_at": None,
    }  # fmt: skip
    storage.put_row(_pulled(SCENE_DRAFTS.name, scene_id, row))
    return row


def clip_job(
    storage: SQLiteStorage, job_id: str, prompt: str, status: str, *, submitted: str,
    progress: int = 0, error: str | None = None,
) -> None:  # fmt: skip
    """A clip job as pulled from the server."""
    row = {
        "id": job_id, "user_id": USER, "user_key": USER, "prompt": prompt, "status": status,
        "progress": progress, "submitted_at": submitted, "error_message": error,
        "deleted_at": None,
    }  # fmt: skip
    storage.put_row(_pulled(CLIP_JOBS.name, job_id, row))


def credits(storage: SQLiteStorage, amount: int, *, free_clip: bool) -> None:
    """The credits last read from the server."""
    storage.set_meta(f"{CREDITS_META}{USER}", f"{amount} {int(free_clip)} {NOW!r}")


def conflict(
    storage: SQLiteStorage, scene_row: dict[str, Any], mine: dict[str, Any],
    theirs: dict[str, Any],
) -> None:  # fmt: skip
    """Fields of a scene changed here (``mine``) and on another device (``theirs``)."""
    storage.add_conflict(
        ConflictRecord(
            conflict_id="c0000000-0000-4000-8000-000000000001",
            table=SCENE_DRAFTS.name,
            id=str(scene_row["id"]),
            local={**scene_row, **mine},
            remote={**scene_row, **theirs},
            diff_fields=sorted(mine),
            resolution_choices=["keep_local", "keep_remote", "merge"],
            remote_version=3,
            created_at=NOW,
        )
    )


def refused_clip(storage: SQLiteStorage, job_id: str, prompt: str, *, submitted: str) -> None:
    """A clip submitted here and refused by the server for lack of credits (a dead letter)."""
    row = {
        "id": job_id, "user_id": USER, "user_key": USER, "prompt": prompt, "status": "queued",
        "progress": 0, "submitted_at": submitted, "deleted_at": None,
    }  # fmt: skip
    storage.put_row(CachedRow(CLIP_JOBS.name, job_id, row))
    storage.enqueue_sync(
        OutboxEntry(
            entry_id="e0000000-0000-4000-8000-000000000001",
            table=CLIP_JOBS.name,
            op="enqueue",
            row_id=job_id,
            args={"prompt": prompt, "user_key": USER},
            state=EntryState.DEAD,
            attempts=1,
            last_error={"code": "insufficient_credits", "message": "not enough credits"},
            created_at=NOW,
        )
    )
