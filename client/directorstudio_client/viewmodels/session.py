"""The ViewModels of one signed-in user, built together: what a UI constructs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from directorstudio_client.clock import Clock
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.sync.service import SyncService
from directorstudio_client.transport.protocol import Transport
from directorstudio_client.viewmodels.clips import ClipJobViewModel
from directorstudio_client.viewmodels.observable import Observable, TelemetrySink
from directorstudio_client.viewmodels.projects import ProjectListViewModel, ProjectRowViewModel
from directorstudio_client.viewmodels.scenes import SceneEditorViewModel
from directorstudio_client.viewmodels.status import StatusViewModel

CLIENT_ID_META = "client_id"


@dataclass
class AppSession:
    """The library, row actions, clip jobs and status of one user, over one sync service.

    ``start()`` starts the sync loop (realtime hints, polling, outbox); ``close()`` stops it
    and every ViewModel. Scene editors are opened per project (:meth:`scene_editor`, or
    ``rows.open_project``) and closed by their caller.
    """

    sync: SyncService
    projects: ProjectListViewModel
    rows: ProjectRowViewModel
    clips: ClipJobViewModel
    status: StatusViewModel
    clock: Clock
    telemetry: TelemetrySink
    _opened: list[Observable[Any]] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        """The signed-in user."""
        return self.sync.user_id

    def scene_editor(self, project_id: str) -> SceneEditorViewModel:
        """A scene editor of one project (not loaded: call ``load_scenes()``); closed with the
        session unless closed before."""
        editor = SceneEditorViewModel(
            self.sync, project_id, clock=self.clock, telemetry=self.telemetry
        )
        self._opened.append(editor)
        return editor

    def clip_jobs(self, project_id: str) -> ClipJobViewModel:
        """The clip jobs of one project (``clips`` has all of the user's); closed with the
        session unless closed before."""
        clips = ClipJobViewModel(
            self.sync, project_id=project_id, clock=self.clock, telemetry=self.telemetry
        )
        self._opened.append(clips)
        return clips

    def start(self) -> None:
        """Start syncing in the background."""
        self.sync.start()

    def close(self) -> None:
        """Stop syncing (the outbox stays in the cache) and every ViewModel."""
        self.sync.stop()
        models: list[Observable[Any]] = [self.projects, self.rows, self.clips, self.status]
        for model in [*models, *self._opened]:
            model.close()
        self._opened.clear()


def build_viewmodels(
    sync: SyncService, *, clock: Clock | None = None, telemetry: TelemetrySink | None = None
) -> AppSession:
    """The ViewModels over a signed-in user's sync service (time and telemetry default to the
    service's own)."""
    clock = clock or sync.clock
    sink: TelemetrySink = telemetry or sync.telemetry
    return AppSession(
        sync=sync,
        projects=ProjectListViewModel(sync, clock=clock, telemetry=sink),
        rows=ProjectRowViewModel(sync, clock=clock, telemetry=sink),
        clips=ClipJobViewModel(sync, clock=clock, telemetry=sink),
        status=StatusViewModel(sync),
        clock=clock,
        telemetry=sink,
    )


def open_session(
    storage: Storage, transport: Transport, user_id: str, *, clock: Clock | None = None,
    poll_interval: float = 10.0,
) -> AppSession:  # fmt: skip
    """A session for a signed-in user: the sync service over ``storage`` and ``transport``
    (the device's client id is kept in the cache) and its ViewModels. Not started."""
    client_id = storage.get_meta(CLIENT_ID_META)
    if client_id is None:
        client_id = str(uuid.uuid4())
        storage.set_meta(CLIENT_ID_META, client_id)
    sync = SyncService(
        storage, transport, user_id=user_id, client_id=client_id, clock=clock,
        poll_interval=poll_interval,
    )  # fmt: skip
    return build_viewmodels(sync)
