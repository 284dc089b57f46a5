"""The scene editor of one project: scenes in order, optimistic edits, conflicts to resolve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.tables import PROJECTS, SCENE_DRAFTS
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import ConflictRecord
from directorstudio_client.sync.service import SyncService
from directorstudio_client.sync.writes import SyncHandle
from directorstudio_client.viewmodels.items import (
    ConflictView,
    FieldChoice,
    LoadStatus,
    Resolution,
    SceneItem,
    SyncIndex,
)
from directorstudio_client.viewmodels.observable import ErrorInfo, Observable, TelemetrySink

DEFAULT_DURATION = 4.0
MAX_PROMPT_TEXT = 10000  # scene_drafts' limits
MAX_DURATION = 600.0
MAX_LABEL = 100


@dataclass(frozen=True)
class SceneEditorState:
    """A project's scenes in order, its open conflicts, and how loading goes."""

    project_id: str
    title: str = ""
    scenes: tuple[SceneItem, ...] = ()
    conflicts: tuple[ConflictView, ...] = ()
    status: LoadStatus = LoadStatus.IDLE
    error: ErrorInfo | None = None
    last_loaded_at: float | None = None

    def scene(self, scene_id: str) -> SceneItem | None:
        """One scene of the project."""
        return next((s for s in self.scenes if s.id == scene_id), None)

    def conflict(self, conflict_id: str) -> ConflictView | None:
        """One open conflict."""
        return next((c for c in self.conflicts if c.conflict_id == conflict_id), None)


class SceneEditorViewModel(Observable[SceneEditorState]):
    """Edits one project's scene drafts locally at once; the outbox sends them, the inbox
    holds what conflicts with changes made elsewhere until the user chooses."""

    def __init__(
        self, sync: SyncService, project_id: str, *, clock: Clock | None = None,
        telemetry: TelemetrySink | None = None,
    ) -> None:  # fmt: skip
        super().__init__(SceneEditorState(project_id=project_id))
        self._sync = sync
        self._clock = clock or sync.clock
        self._telemetry = telemetry or sync.telemetry
        self.project_id = project_id
        self._watch(
            sync.storage,
            (SCENE_DRAFTS.name, f"{PROJECTS.name}:{project_id}", "outbox", "conflicts"),
            self.refresh,
        )
        self.refresh()

    # --- reading ------------------------------------------------------------------------------
    def _conflicts(self, scene_ids: set[str]) -> tuple[ConflictView, ...]:
        def ours(c: ConflictRecord) -> bool:
            if c.table == PROJECTS.name:
                return c.id == self.project_id
            if c.table != SCENE_DRAFTS.name:
                return False
            owner = c.local.get("project_id") or c.remote.get("project_id")
            return c.id in scene_ids or str(owner) == self.project_id

        return tuple(ConflictView.of(c) for c in self._sync.storage.get_conflicts() if ours(c))

    def refresh(self) -> SceneEditorState:
        """Re-read the cache (called on every change of scenes, the project, outbox, inbox)."""
        return self._publish_read(self._sync.storage, self._read)

    def _read(self) -> dict[str, Any]:
        storage = self._sync.storage
        rows = storage.list_scenes(self.project_id)
        index = SyncIndex(storage, SCENE_DRAFTS.name, [r.id for r in rows])
        scenes = tuple(SceneItem.of(r, index.of(r.id)) for r in rows)
        project = storage.get_row(PROJECTS.name, self.project_id)
        title = str((project.row if project else {}).get("title") or "")
        return {
            "title": title,
            "scenes": scenes,
            "conflicts": self._conflicts({s.id for s in scenes}),
        }

    def load_scenes(self) -> SceneEditorState:
        """Show the cached scenes at once (``loading``), then sync and reconcile (``ready``,
        or ``offline``/``error`` with the cache still shown). Blocks on the network."""
        self._update(status=LoadStatus.LOADING)
        self.refresh()
        report = self._sync.sync_now()
        error = ErrorInfo.from_json(report.pull_error)
        status = LoadStatus.READY
        if error is not None:
            status = LoadStatus.OFFLINE if error.offline else LoadStatus.ERROR
        self.refresh()
        return self._update(
            status=status,
            error=error,
            last_loaded_at=self._clock.now() if error is None else self.state.last_loaded_at,
        )

    # --- writing ------------------------------------------------------------------------------
    def create_scene_optimistic(
        self, prompt_text: str, duration: float = DEFAULT_DURATION, *,
        scene_type: str | None = None, shot_type: str | None = None,
        order_index: int | None = None,
    ) -> str:  # fmt: skip
        """Add a scene now (appended unless ``order_index`` is given) and return its id: a
        client-generated UUID the server keeps, so the "temporary" id never changes. The scene
        is visible at once and queued for the server (``scene_create_initiated``)."""
        self._check(
            {"prompt_text": prompt_text, "duration": duration, "scene_type": scene_type,
             "shot_type": shot_type}
        )  # fmt: skip
        current = [r.id for r in self._sync.storage.list_scenes(self.project_id)]
        with self._sync.storage.transaction():
            handle = self._sync.create_scene_draft(
                self.project_id, prompt_text, float(duration),
                scene_type=scene_type, shot_type=shot_type,
            )  # fmt: skip
            if order_index is not None and 0 <= order_index < len(current):
                # Appended, then moved: the cache shows the order the server will hold.
                current.insert(order_index, handle.row_id)
                self._sync.reorder_scene_drafts(self.project_id, current)
        self._telemetry.emit("scene_create_initiated")
        return handle.row_id

    def save_scene(self, scene_id: str, patch: Mapping[str, Any]) -> SyncHandle:
        """Change fields of a scene (``prompt_text``, ``duration``, ``scene_type``,
        ``shot_type``); only those fields are sent, so edits of other fields elsewhere merge."""
        self._require(scene_id)
        self._check(patch)
        try:
            return self._sync.update_scene_draft(scene_id, dict(patch))
        except DirectorStudioError as error:
            self._update(error=ErrorInfo.of(error))
            raise

    def reorder_scenes(self, ordered_ids: list[str]) -> SyncHandle:
        """Put the scenes in this order (every live scene exactly once, else ``invalid_input``
        and nothing changes)."""
        current = [s.id for s in self.state.scenes]
        wanted = [str(i) for i in ordered_ids]
        if sorted(wanted) != sorted(current):
            raise self._invalid("a reorder lists every scene of the project exactly once")
        return self._sync.reorder_scene_drafts(self.project_id, wanted)

    def move_scene(self, scene_id: str, offset: int) -> SyncHandle | None:
        """Move one scene ``offset`` places (negative: up); ``None`` when it cannot move."""
        ids = [s.id for s in self.state.scenes]
        if scene_id not in ids:
            raise self._not_found(scene_id)
        position = ids.index(scene_id)
        target = max(0, min(len(ids) - 1, position + offset))
        if target == position:
            return None
        ids.insert(target, ids.pop(position))
        return self.reorder_scenes(ids)

    def delete_scene(self, scene_id: str) -> SyncHandle:
        """Delete a scene (it leaves the editor at once; a tombstone on the server)."""
        self._require(scene_id)
        return self._sync.delete_scene_draft(scene_id)

    # --- conflicts ----------------------------------------------------------------------------
    def resolve_conflict(
        self, conflict_id: str, resolution: Resolution | str,
        fields: Mapping[str, FieldChoice | str] | None = None,
    ) -> SyncHandle:  # fmt: skip
        """Resolve an open conflict: keep mine, keep theirs, or merge choosing per field
        (``fields`` maps every differing field to ``mine``/``theirs``, i.e. ``local``/
        ``remote``). The chosen values are sent and the resolution is recorded in the server's
        ``continuity_logs``; returns the handle of that record."""
        try:
            choice = Resolution(resolution)
            per_field = None
            if fields is not None:
                per_field = {n: str(FieldChoice(_field_choice(v))) for n, v in fields.items()}
        except ValueError as unknown:
            raise self._invalid(str(unknown)) from None
        try:
            return self._sync.resolve_conflict(conflict_id, str(choice), per_field)
        except DirectorStudioError as error:
            self._update(error=ErrorInfo.of(error))
            raise

    # --- helpers ------------------------------------------------------------------------------
    def _require(self, scene_id: str) -> None:
        if self.state.scene(scene_id) is None and not any(
            r.id == scene_id for r in self._sync.storage.list_scenes(self.project_id)
        ):
            raise self._not_found(scene_id)

    def _check(self, fields: Mapping[str, Any]) -> None:
        """``invalid_input`` for a value the server's scene_drafts would refuse."""
        message = scene_field_problem(fields)
        if message is not None:
            raise self._invalid(message)

    def _invalid(self, message: str) -> DirectorStudioError:
        error = DirectorStudioError(message, code=ErrorCode.INVALID_INPUT)
        self._update(error=ErrorInfo.of(error))
        return error

    def _not_found(self, scene_id: str) -> DirectorStudioError:
        error = DirectorStudioError(
            f"no scene {scene_id} in this project", code=ErrorCode.NOT_FOUND
        )
        self._update(error=ErrorInfo.of(error))
        return error


def scene_field_problem(fields: Mapping[str, Any]) -> str | None:
    """What is wrong with scene field values, as scene_drafts' constraints see it (and a
    scene's text may not be blank); ``None`` when nothing is."""
    if "prompt_text" in fields:
        text = fields["prompt_text"]
        if not isinstance(text, str) or not text.strip():
            return "a scene needs its prompt text"
        if len(text) > MAX_PROMPT_TEXT:
            return f"a scene's text has at most {MAX_PROMPT_TEXT} characters"
    if "duration" in fields:
        duration = fields["duration"]
        valid = isinstance(duration, int | float) and not isinstance(duration, bool)
        if not valid or not 0 < float(duration) <= MAX_DURATION:
            return f"a scene lasts more than 0 and at most {MAX_DURATION:g} seconds"
    for name in ("scene_type", "shot_type"):
        value = fields.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_LABEL):
            return f"{name} is a text of at most {MAX_LABEL} characters"
    return None


def _field_choice(value: FieldChoice | str) -> str:
    """``mine``/``theirs`` as well as ``local``/``remote``."""
    return {"mine": "local", "theirs": "remote"}.get(str(value), str(value))
