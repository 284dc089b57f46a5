"""The project library: the list (local first, then reconciled) and each row's actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.tables import PROJECTS
from directorstudio_client.clock import Clock
from directorstudio_client.sync.service import SyncService
from directorstudio_client.sync.writes import SyncHandle
from directorstudio_client.viewmodels.items import LoadStatus, ProjectItem, SyncIndex
from directorstudio_client.viewmodels.observable import ErrorInfo, Observable, TelemetrySink
from directorstudio_client.viewmodels.scenes import SceneEditorViewModel, scene_field_problem

MAX_TITLE = 200  # project_overview.title's limit
QUICK_TITLE = 60  # a quick create's title: the prompt's first line, cut at a word
FIRST_SCENE_DURATION = 4.0
SAMPLE_NAMESPACE = uuid.UUID("6f1d3c1e-5b7a-4c44-9a51-0d6a3f3b7e10")


@dataclass(frozen=True)
class ProjectListState:
    """The library: its projects (most recently updated first), how loading goes, the last
    error and when the list was last reconciled with the server."""

    items: tuple[ProjectItem, ...] = ()
    status: LoadStatus = LoadStatus.IDLE
    error: ErrorInfo | None = None
    last_loaded_at: float | None = None

    @property
    def empty(self) -> bool:
        """Whether the library has no project to show (the empty state)."""
        return not self.items

    def item(self, project_id: str) -> ProjectItem | None:
        """One project of the list."""
        return next((i for i in self.items if i.project_id == project_id), None)


def quick_title(prompt: str | None) -> str | None:
    """The title a quick create gives its project: the prompt's first line, cut at a word
    boundary (``None``, the server's default title, when there is no prompt)."""
    text = (prompt or "").strip()
    line = text.splitlines()[0].strip() if text else ""
    if not line:
        return None
    if len(line) <= QUICK_TITLE:
        return line
    cut = line[: QUICK_TITLE + 1].rsplit(" ", 1)[0] or line[:QUICK_TITLE]
    return cut.rstrip(" ,.;:") + "…"


def check_title(title: str) -> str:
    """A title as the server accepts it (1 to 200 characters), else ``invalid_input``."""
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise DirectorStudioError(
            f"a title has 1 to {MAX_TITLE} characters", code=ErrorCode.INVALID_INPUT
        )
    return title


class ProjectListViewModel(Observable[ProjectListState]):
    """The project library, local first: shows the cache at once, then reconciles with the
    server; creates are visible immediately and marked *saving* until the server confirms."""

    def __init__(
        self, sync: SyncService, *, clock: Clock | None = None,
        telemetry: TelemetrySink | None = None, include_archived: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(ProjectListState())
        self._sync = sync
        self._clock = clock or sync.clock
        self._telemetry = telemetry or sync.telemetry
        self._include_archived = include_archived
        self._watch(sync.storage, (PROJECTS.name, "outbox", "conflicts"), self.refresh)

    def _items(self) -> tuple[ProjectItem, ...]:
        storage = self._sync.storage
        rows = storage.list_projects(self._sync.user_id, include_archived=self._include_archived)
        index = SyncIndex(storage, PROJECTS.name, [r.project_id for r in rows])
        return tuple(ProjectItem.of(r, index.of(r.project_id)) for r in rows)

    def refresh(self) -> ProjectListState:
        """Re-read the cache (called on every change of projects, outbox or conflicts)."""
        return self._publish_read(self._sync.storage, lambda: {"items": self._items()})

    def load_list(self) -> ProjectListState:
        """Show the cached projects at once (status ``loading``), then pull what changed and
        reconcile (``ready``; ``offline`` or ``error`` keep the cache on screen). Emits
        ``library_load``. Blocks on the network: call it off the UI thread; the first state is
        published before any network call."""
        self._publish_read(
            self._sync.storage, lambda: {"items": self._items()}, status=LoadStatus.LOADING
        )
        report = self._sync.sync_now()
        error = ErrorInfo.from_json(report.pull_error)
        status = LoadStatus.READY
        if error is not None:
            status = LoadStatus.OFFLINE if error.offline else LoadStatus.ERROR
        self._telemetry.emit("library_load", success=error is None)
        return self._update(
            items=self._items(),
            status=status,
            error=error,
            last_loaded_at=self._clock.now() if error is None else self.state.last_loaded_at,
        )

    def create_project_quick(self, prompt: str | None = None) -> str:
        """Create a project now and return its id (a client-generated UUID the server keeps).

        The project is listed at once as *saving* and becomes confirmed when the server holds
        it, or dead with the server's reason (``create_initiated``, then ``create_confirmed``
        or ``create_failed``). With a prompt, the title is its first line and the prompt
        becomes the project's first scene."""
        if prompt and prompt.strip():
            problem = scene_field_problem({"prompt_text": prompt.strip()})
            if problem is not None:
                error = DirectorStudioError(problem, code=ErrorCode.INVALID_INPUT)
                self._update(error=ErrorInfo.of(error))
                raise error
        title = quick_title(prompt)
        with self._sync.storage.transaction():
            handle = self._sync.create_project(title)
            if prompt and prompt.strip():
                self._sync.create_scene_draft(
                    handle.row_id, prompt.strip(), FIRST_SCENE_DURATION, order_index=0
                )
        return handle.row_id

    def import_sample(self) -> str | None:
        """Import the sample project ("The Lighthouse Keeper", four scenes) through the
        server's ``import_sample_project`` and pull it; returns its id (one per user: importing
        again returns the same project), or ``None`` with ``error`` set when the server could
        not be reached or refused. Blocks on the network."""
        project_id = str(uuid.uuid5(SAMPLE_NAMESPACE, self._sync.user_id))
        try:
            self._sync.transport.rpc("import_sample_project", {"p_project_id": project_id})
        except DirectorStudioError as failure:
            error = ErrorInfo.of(failure)
            status = LoadStatus.OFFLINE if error.offline else LoadStatus.ERROR
            self._update(status=status, error=error)
            return None
        self.load_list()
        return project_id


@dataclass(frozen=True)
class ProjectRowState:
    """The project the user opened last and the last row action's error."""

    open_project_id: str | None = None
    last_action: str | None = None
    error: ErrorInfo | None = None


class ProjectRowViewModel(Observable[ProjectRowState]):
    """A library row's actions: open, rename, duplicate, archive (each works offline and is
    sent through the outbox; the list shows its sync state)."""

    def __init__(
        self, sync: SyncService, *, clock: Clock | None = None,
        telemetry: TelemetrySink | None = None,
    ) -> None:  # fmt: skip
        super().__init__(ProjectRowState())
        self._sync = sync
        self._clock = clock or sync.clock
        self._telemetry = telemetry or sync.telemetry

    def open_project(self, project_id: str) -> SceneEditorViewModel:
        """Open a project's scene editor (``project_open``); call ``load_scenes()`` on it, and
        ``close()`` when leaving it."""
        self._require(project_id)
        self._telemetry.emit("project_open")
        self._update(open_project_id=project_id, last_action="open", error=None)
        return SceneEditorViewModel(
            self._sync, project_id, clock=self._clock, telemetry=self._telemetry
        )

    def rename(self, project_id: str, title: str) -> SyncHandle:
        """Rename a project (``project_action_rename``); ``invalid_input`` for an empty or
        over-long title, ``not_found`` for an unknown project: nothing changes then."""
        return self._act(
            "rename", lambda: self._sync.rename_project(project_id, check_title(title))
        )

    def duplicate(self, project_id: str, title: str | None = None) -> str:
        """Copy a project with its scenes (``project_action_duplicate``); returns the copy's id
        (listed at once; its scenes arrive with the next pull). Default title: "<title> (copy)"."""
        source = self._require(project_id)
        name = check_title(title) if title is not None else _copy_title(source)
        handle = self._act("duplicate", lambda: self._sync.duplicate_project(project_id, name))
        return handle.row_id

    def archive(self, project_id: str) -> SyncHandle:
        """Archive a project (``project_action_archive``): it leaves the library."""
        self._require(project_id)
        return self._act("archive", lambda: self._sync.archive_project(project_id))

    def _require(self, project_id: str) -> dict[str, object]:
        cached = self._sync.storage.get_row(PROJECTS.name, project_id)
        if cached is None or cached.deleted or not cached.row:
            error = DirectorStudioError(f"no project {project_id}", code=ErrorCode.NOT_FOUND)
            self._update(error=ErrorInfo.of(error))
            raise error
        return cached.row

    def _act(self, action: str, write: Callable[[], SyncHandle]) -> SyncHandle:
        try:
            handle = write()
        except DirectorStudioError as error:
            self._update(last_action=action, error=ErrorInfo.of(error))
            raise
        self._telemetry.emit(f"project_action_{action}")
        self._update(last_action=action, error=None)
        return handle


def _copy_title(row: dict[str, object]) -> str:
    base = str(row.get("title") or "Untitled project")
    suffix = " (copy)"
    return base[: MAX_TITLE - len(suffix)] + suffix
