"""ViewModels of the DirectorStudio app, independent of any UI toolkit.

Each ViewModel holds an immutable state (a frozen dataclass) that it replaces on every change,
fed by the local store's notifications (and the sync loop's ``sync`` key); ``subscribe(cb)``
returns the function that unsubscribes. Writes are local first and go through the client's
outbox; methods that reach the network say so and block, so a UI calls them off its thread.

    session = open_session(SQLiteStorage(path), transport, user_id)
    session.projects.subscribe(render)
    session.start()
    session.projects.load_list()
"""

from directorstudio_client.viewmodels.clips import ClipJobState, ClipJobViewModel
from directorstudio_client.viewmodels.items import (
    ClipJobItem,
    ConflictView,
    Credits,
    DeadLetter,
    FieldChoice,
    FieldDiff,
    LoadStatus,
    ProjectItem,
    Resolution,
    SceneItem,
    SyncState,
)
from directorstudio_client.viewmodels.observable import (
    ErrorInfo,
    Observable,
    TelemetrySink,
    Unsubscribe,
)
from directorstudio_client.viewmodels.projects import (
    ProjectListState,
    ProjectListViewModel,
    ProjectRowState,
    ProjectRowViewModel,
)
from directorstudio_client.viewmodels.scenes import SceneEditorState, SceneEditorViewModel
from directorstudio_client.viewmodels.session import AppSession, build_viewmodels, open_session
from directorstudio_client.viewmodels.status import StatusState, StatusViewModel

__all__ = [
    "AppSession",
    "ClipJobItem",
    "ClipJobState",
    "ClipJobViewModel",
    "ConflictView",
    "Credits",
    "DeadLetter",
    "ErrorInfo",
    "FieldChoice",
    "FieldDiff",
    "LoadStatus",
    "Observable",
    "ProjectItem",
    "ProjectListState",
    "ProjectListViewModel",
    "ProjectRowState",
    "ProjectRowViewModel",
    "Resolution",
    "SceneEditorState",
    "SceneEditorViewModel",
    "SceneItem",
    "StatusState",
    "StatusViewModel",
    "SyncState",
    "TelemetrySink",
    "Unsubscribe",
    "build_viewmodels",
    "open_session",
]
