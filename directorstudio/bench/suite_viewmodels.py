"""The app's ViewModels on a cache file, offline: the library's local-first render.

The handoff's target: the project library renders the local cache within 200 ms. Each figure
stands next to a baseline measured in the same run: the ViewModel's render (rows, their sync
states from the outbox and inbox, immutable items) next to the store's plain read of the same
rows, with offline writes queued so the sync states have something to find.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from directorstudio.bench.model import BenchOptions, Row, at_most, median, repeat
from directorstudio.bench.suite_client_local import (
    USER,
    offline_client,
    queue_offline_writes,
    server_projects,
    server_scenes,
    timed,
)
from directorstudio_client import SyncService
from directorstudio_client.viewmodels import (
    ProjectListViewModel,
    SceneEditorViewModel,
    SyncState,
)

NAME = "viewmodels"
RENDER_TARGET_MS = 200.0  # the handoff: ProjectLibraryView renders the local cache within 200 ms


class ViewModelsSuite:
    """Library and scene editor renders from the cache, and a quick create until listed."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        projects, scenes, pending, rounds = (200, 50, 100, 10) if options.quick else (
            1000, 200, 1000, 30
        )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="directorstudio-bench-viewmodels-") as tmp:
            sync = offline_client(Path(tmp) / "cache.db")
            scene_project = str(uuid.uuid4())
            sync.reconciler.apply_changes(server_projects(projects, scene_project))
            sync.reconciler.apply_changes(server_scenes(scene_project, scenes))
            queue_offline_writes(sync, pending)
            store = sync.storage
            listed = len(store.get_project_overviews(USER))
            library = ProjectListViewModel(sync)
            editor = SceneEditorViewModel(sync, scene_project)
            if len(library.refresh().items) != listed or len(editor.state.scenes) != scenes:
                raise RuntimeError("a ViewModel lost rows")
            renders = repeat(lambda: timed(library.refresh, rounds), options.repetitions)
            reads = repeat(
                lambda: timed(lambda: store.get_project_overviews(USER), rounds),
                options.repetitions,
            )
            scene_renders = repeat(lambda: timed(editor.refresh, rounds), options.repetitions)
            scene_reads = repeat(
                lambda: timed(lambda: store.get_scene_drafts(scene_project), rounds),
                options.repetitions,
            )
            library.close()
            editor.close()
            # Alternated, so both see the same growing queue.
            pairs = repeat(lambda: _create_pair(sync, rounds), options.repetitions)
            plain_creates, creates = [p for p, _ in pairs], [c for _, c in pairs]
            store.close()
        return [
            at_most(
                NAME, f"library render of {listed} cached projects, {pending} pending p50", "ms",
                [median(r) for r in renders], RENDER_TARGET_MS,
                p95_of=[s for r in renders for s in r],
                baseline="the store's project read", baseline_values=[median(r) for r in reads],
                max_ratio=4.0,
            ),
            at_most(
                NAME, f"scene editor render of {scenes} scenes p50", "ms",
                [median(r) for r in scene_renders], RENDER_TARGET_MS,
                p95_of=[s for r in scene_renders for s in r],
                baseline="the store's scene read",
                baseline_values=[median(r) for r in scene_reads], max_ratio=4.0,
            ),
            at_most(
                NAME, "quick create until listed p50", "ms",
                [median(r) for r in creates], RENDER_TARGET_MS,
                p95_of=[s for r in creates for s in r],
                baseline="the same create, nothing listening",
                baseline_values=[median(r) for r in plain_creates],
            ),
        ]  # fmt: skip


def _create_pair(sync: SyncService, rounds: int) -> tuple[list[float], list[float]]:
    """Creates with nothing listening, then quick creates with the library open (each one
    re-rendered on its notification before the call returns)."""
    plain = timed(lambda: sync.create_project(None), rounds)
    library = ProjectListViewModel(sync)
    library.refresh()
    listened = timed(library.create_project_quick, rounds)
    if library.state.items[0].sync_state != SyncState.PENDING:
        raise RuntimeError("a quick create is not listed as saving")
    library.close()
    return plain, listened


SUITE = ViewModelsSuite()
