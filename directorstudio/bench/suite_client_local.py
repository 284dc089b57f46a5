"""The client library on its own cache file, offline: reads, writes with a long queue, memory.

Every figure stands next to a baseline measured in the same run: a list read next to a raw
``sqlite3`` SELECT of the same rows on the same file, a write with a long queue next to the same
write with an empty one. No server is involved (the network is down, as on a plane).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from directorstudio.bench.model import BenchOptions, Row, at_most, info, median, p95, repeat
from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import Change
from directorstudio_client import ManualClock, SQLiteStorage, SyncService
from directorstudio_client.storage.sqlite_lists import LIVE, NOT_ARCHIVED, PROJECT_LIST, SCENE_LIST

NAME = "client_local"
USER = "11111111-1111-1111-1111-111111111111"


class Offline:
    """A network that is down (the only fake: what lies outside the client)."""

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        raise DirectorStudioError("offline", code=ErrorCode.UNAVAILABLE)

    def subscribe_hints(self, user_id: str, on_hint: Callable[[str], None]) -> Any:
        raise DirectorStudioError("offline", code=ErrorCode.UNAVAILABLE)

    def close(self) -> None:
        """Nothing to release."""


def offline_client(path: Path) -> SyncService:
    """A client on the cache file ``path`` whose network is down."""
    sync = SyncService(
        SQLiteStorage(path), Offline(), user_id=USER, client_id=str(uuid.uuid4()),
        clock=ManualClock(),
    )  # fmt: skip
    sync.realtime_enabled = False
    return sync


def server_projects(count: int, scenes_project: str | None = None) -> list[Change]:
    """Pulled changes: ``count`` projects of the user (as the server sends them)."""
    changes = []
    for n in range(count):
        project_id = scenes_project if n == 0 and scenes_project else str(uuid.uuid4())
        row = {
            "project_id": project_id, "user_id": USER, "title": f"Project {n}",
            "archived": False, "scene_count": 0, "total_duration": 0.0,
            "project_created_at": "2026-11-01T00:00:00+00:00",
            "last_updated": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00+00:00",
            "deleted_at": None, "version": 1, "field_versions": {}, "sync_txid": str(n),
        }  # fmt: skip
        changes.append(Change(table="project_overview", id=project_id, version=1, row=row))
    return changes


def server_scenes(project_id: str, count: int) -> list[Change]:
    """Pulled changes: ``count`` scenes of one project."""
    changes = []
    for n in range(count):
        scene_id = str(uuid.uuid4())
        row = {
            "id": scene_id, "user_id": USER, "project_id": project_id, "order_index": n,
            "prompt_text": f"Scene {n}", "duration": 3.0, "archived": False,
            "created_at": "2026-11-01T00:00:00+00:00", "deleted_at": None, "version": 1,
        }  # fmt: skip
        changes.append(Change(table="scene_drafts", id=scene_id, version=1, row=row))
    return changes


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds of each of ``rounds`` calls."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_pair(
    call: Callable[[], object], baseline: Callable[[], object], rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of ``call`` and of ``baseline``, alternated in each of ``rounds`` rounds."""
    calls: list[float] = []
    baselines: list[float] = []
    clock = time.perf_counter
    for _ in range(rounds):
        start = clock()
        call()
        middle = clock()
        baseline()
        calls.append((middle - start) * 1000)
        baselines.append((clock() - middle) * 1000)
    return calls, baselines


def queue_offline_writes(sync: SyncService, count: int) -> str:
    """``count`` offline writes, each its own outbox entry (creates of projects and scenes,
    archives of earlier projects: edits of a never-sent row would fold into its entry); a
    project id."""
    project = sync.create_project("Queued").row_id
    previous = project
    for n in range(count - 1):
        if n % 4 == 0:
            previous, project = project, sync.create_project(f"Queued {n}").row_id
        elif n % 4 == 1:
            sync.archive_project(previous)
        else:
            sync.create_scene_draft(project, f"Queued scene {n}", 2.0)
    return project


class ClientLocalSuite:
    """Local reads, local writes against a long queue, and peak memory of a full cache."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        projects, scenes = (200, 50) if options.quick else (1000, 200)
        pending, rows_held, rounds = (500, 5000, 30) if options.quick else (10000, 50000, 200)
        with tempfile.TemporaryDirectory(prefix="directorstudio-bench-client-") as tmp:
            base = Path(tmp)
            result = self._reads(base / "reads.db", projects, scenes, rounds, options)
            result.extend(self._writes(base, pending, rounds, options))
            result.append(self._memory(base / "memory.db", rows_held, pending))
        return result

    def _reads(
        self, path: Path, projects: int, scenes: int, rounds: int, options: BenchOptions
    ) -> list[Row]:
        sync = offline_client(path)
        scene_project = str(uuid.uuid4())
        sync.reconciler.apply_changes(server_projects(projects, scene_project))
        sync.reconciler.apply_changes(server_scenes(scene_project, scenes))
        raw = sqlite3.connect(str(path))
        store = sync.storage
        # The baselines run the store's own statements on a bare sqlite3 connection: the
        # same rows and columns, without the library (locks, typed rows, converters).
        project_sql, scene_sql = PROJECT_LIST.select(), SCENE_LIST.select()

        def raw_projects() -> object:
            return raw.execute(project_sql, (USER,)).fetchall()

        def raw_scenes() -> object:
            return raw.execute(scene_sql, (scene_project,)).fetchall()

        def raw_all_columns() -> object:
            return raw.execute(
                f"SELECT * FROM project_overview WHERE user_id = ? AND {LIVE} AND {NOT_ARCHIVED}"
                " ORDER BY last_updated DESC",
                (USER,),
            ).fetchall()

        # Every call is made once before timing (the file's pages are in the cache), and the
        # read and its baseline alternate within each round, so both see the same load. The
        # garbage collector stays on, as in the app.
        listed = store.list_projects(USER)
        if len(listed) != projects or len(raw_projects()) != projects:  # type: ignore[arg-type]
            raise RuntimeError("the project list is incomplete")
        if len(store.list_scenes(scene_project)) != scenes:
            raise RuntimeError("the scene list is incomplete")
        project_reads = repeat(
            lambda: timed_pair(lambda: store.list_projects(USER), raw_projects, rounds),
            options.repetitions,
        )
        scene_reads = repeat(
            lambda: timed_pair(lambda: store.list_scenes(scene_project), raw_scenes, rounds),
            options.repetitions,
        )
        dict_reads = repeat(
            lambda: timed_pair(lambda: store.get_project_overviews(USER), raw_all_columns, rounds),
            options.repetitions,
        )
        raw.close()
        store.close()
        reads, baseline = [r for r, _ in project_reads], [b for _, b in project_reads]
        scene_times, scene_baseline = [r for r, _ in scene_reads], [b for _, b in scene_reads]
        dicts, all_columns = [r for r, _ in dict_reads], [b for _, b in dict_reads]
        return [
            at_most(
                NAME, f"ProjectList of {projects} cached projects p50", "ms",
                [median(r) for r in reads], 2.0, p95_of=[s for r in reads for s in r],
                baseline="raw sqlite3 SELECT, same rows and columns",
                baseline_values=[median(r) for r in baseline], max_ratio=3.0,
            ),
            at_most(
                NAME, f"scene list of a {scenes}-scene project p50", "ms",
                [median(r) for r in scene_times], 1.0,
                p95_of=[s for r in scene_times for s in r],
                baseline="raw sqlite3 SELECT, same rows and columns",
                baseline_values=[median(r) for r in scene_baseline],
            ),
            Row(
                suite=NAME, metric=f"get_project_overviews (dictionaries), {projects} projects p50",
                unit="ms", value=median([median(r) for r in dicts]), target="-", met=None,
                p95=p95([s for r in dicts for s in r]), baseline="raw sqlite3 SELECT *",
                baseline_value=median([median(r) for r in all_columns]),
            ),
        ]  # fmt: skip

    def _writes(self, base: Path, pending: int, rounds: int, options: BenchOptions) -> list[Row]:
        empty = offline_client(base / "empty.db")
        empty_project = empty.create_project("Alone").row_id
        full = offline_client(base / "full.db")
        started = time.perf_counter()
        full_project = queue_offline_writes(full, pending)
        queued_in = time.perf_counter() - started
        if full.health().counts["pending"] < pending:
            raise RuntimeError("the queue lost writes")

        def writes(sync: SyncService, project: str) -> list[float]:
            counter = iter(range(10**9))
            return timed(lambda: sync.rename_project(project, f"Edit {next(counter)}"), rounds)

        loaded = repeat(lambda: writes(full, full_project), options.repetitions)
        alone = repeat(lambda: writes(empty, empty_project), options.repetitions)
        empty.storage.close()
        full.storage.close()
        return [
            info(NAME, f"queueing {pending} offline writes", "s", [queued_in]),
            at_most(
                NAME, f"local write with {pending} pending p50", "ms",
                [median(r) for r in loaded], 2.0, p95_of=[s for r in loaded for s in r],
                baseline="same write, empty queue", baseline_values=[median(r) for r in alone],
                max_ratio=1.5,
            ),
        ]  # fmt: skip

    def _memory(self, path: Path, rows: int, pending: int) -> Row:
        sync = offline_client(path)
        for start in range(0, rows, 5000):
            sync.reconciler.apply_changes(server_projects(min(5000, rows - start)))
        queue_offline_writes(sync, pending)
        sync.storage.close()
        tracemalloc.start()
        reopened = offline_client(path)
        reopened.storage.get_project_overviews(USER)
        reopened.health()
        reopened.create_project("One more")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        reopened.storage.close()
        return info(
            NAME, f"peak Python memory, client with {rows} rows + {pending} pending", "MiB",
            [peak / 2**20],
        )  # fmt: skip


SUITE = ClientLocalSuite()
