"""``directorstudio smoke``: the rollout checklist's smoke test against any deployment.

A throwaway user signs up (email and password; anonymously when email sign-up needs a
confirmation), the client library renders the project library from a fresh local cache,
creates a project and a scene and waits for the server to confirm them, a clip is submitted
through the ``enqueue_clip`` function and watched until it completes (realtime change hints,
with polling as the fallback), and telemetry sent through the client and the
``telemetry_batch`` function is read back under the user's row level security. With a service
key the test user is deleted afterwards (GoTrue's admin API; its rows go with it by cascade).
Every step is timed; the exit code is 0 only when no step failed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIRM_TIMEOUT = 30.0
CLIP_TIMEOUT = 120.0
POLL_EVERY = 2.0
TERMINAL = ("completed", "failed", "canceled")
SMOKE_ELEMENT = "smoke_check"


class StepFailed(Exception):
    """A step's check did not hold; the message says what was seen."""


@dataclass(frozen=True)
class SmokeTarget:
    """Where to run: the API URL, its anon key and optionally its service-role key."""

    url: str
    anon_key: str
    service_key: str | None = None


@dataclass(frozen=True)
class StepResult:
    """One row of the report."""

    name: str
    ms: float
    status: str  # ok, failed or skipped
    detail: str


@dataclass
class SmokeReport:
    """Every step's result, in order."""

    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass
class _Run:
    """What the steps share."""

    target: SmokeTarget
    cache_dir: Path
    sleep: Callable[[float], None]
    transport: Any = None
    user_id: str | None = None
    created_users: list[str] = field(default_factory=list)
    sync: Any = None
    project_id: str | None = None
    scene_id: str | None = None
    job_id: str | None = None


def _sign_up(run: _Run) -> str:
    from directorstudio_client.transport.supabase import SupabaseTransport

    run.transport = SupabaseTransport(run.target.url, run.target.anon_key, auto_refresh_token=False)
    auth = run.transport.client.auth
    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    reply = auth.sign_up({"email": email, "password": uuid.uuid4().hex})
    if reply.user is not None:
        run.created_users.append(str(reply.user.id))
    if reply.session is not None and reply.user is not None:
        run.user_id = str(reply.user.id)
        return f"email user {run.user_id}"
    anonymous = auth.sign_in_anonymously()
    run.user_id = str(anonymous.user.id)
    run.created_users.append(run.user_id)
    return f"anonymous user {run.user_id} (email sign-up needs confirmation)"


def _library(run: _Run) -> str:
    from directorstudio_client import SQLiteStorage, SyncService

    storage = SQLiteStorage(str(run.cache_dir / "cache.db"))
    assert run.user_id is not None
    run.sync = SyncService(
        storage, run.transport, user_id=run.user_id, client_id=str(uuid.uuid4()), poll_interval=2.0
    )
    pulled = run.sync.pull()
    projects = storage.get_project_overviews(run.user_id)
    scenes = sum(len(storage.get_scene_drafts(str(p["project_id"]))) for p in projects)
    run.sync.telemetry.emit("library_load")
    return f"{len(projects)} project(s), {scenes} scene(s) from a fresh cache ({pulled} pulled)"


def _confirmed(run: _Run, handle: Any, table: str, listed: Callable[[], list[Any]]) -> str:
    """The write is in the local cache at once, its handle resolves with the server's answer,
    and the server lists the row."""
    if run.sync.storage.get_row(table, handle.row_id) is None:
        raise StepFailed(f"the {table} row is not in the local cache before confirmation")
    run.sync.start()
    result = handle.result(timeout=CONFIRM_TIMEOUT)
    if handle.row_id not in {str(row.get("id", row.get("project_id"))) for row in listed()}:
        raise StepFailed(f"confirmed, but the server does not list {table} {handle.row_id}")
    row = result.row or {}
    return f"{handle.row_id} confirmed ({result.outcome}, version {row.get('version')})"


def _create_project(run: _Run) -> str:
    handle = run.sync.create_project("Smoke test")
    run.project_id = handle.row_id
    return _confirmed(
        run, handle, "project_overview", lambda: run.transport.rpc("list_project_overviews", {})
    )


def _create_scene(run: _Run) -> str:
    assert run.project_id is not None
    handle = run.sync.create_scene_draft(run.project_id, "A lighthouse in a storm", 3.0)
    run.scene_id = handle.row_id
    return _confirmed(
        run,
        handle,
        "scene_drafts",
        lambda: run.transport.rpc("list_scene_drafts", {"p_project_id": run.project_id}),
    )


def _submit_clip(run: _Run) -> str:
    run.job_id = str(uuid.uuid4())
    body = {
        "job_id": run.job_id,
        "prompt": "A lighthouse in a storm",
        "user_key": run.user_id,
        "project_id": run.project_id,
        "scene_draft_id": run.scene_id,
    }
    reply = run.transport.client.functions.invoke(
        "enqueue_clip", {"body": body, "responseType": "json"}
    )
    if not isinstance(reply, dict) or reply.get("id") != run.job_id:
        raise StepFailed(f"enqueue_clip answered {reply!r}")
    return f"job {run.job_id} {reply.get('status')}, charge {reply.get('charge')}"


def _clip_completed(run: _Run) -> str:
    """Wait for the job in the local cache (pulled on a realtime hint); poll the server too."""
    deadline = time.monotonic() + CLIP_TIMEOUT
    next_poll = time.monotonic() + POLL_EVERY
    while time.monotonic() < deadline:
        cached = run.sync.storage.get_row("clip_jobs", run.job_id)
        if cached is not None and cached.row.get("status") in TERMINAL:
            realtime = run.sync.health().realtime_active
            return _clip_verdict(cached.row, "realtime" if realtime else "the sync loop's polling")
        if time.monotonic() >= next_poll:
            next_poll = time.monotonic() + POLL_EVERY
            job = run.transport.rpc("get_clip_job_status", {"p_job_id": run.job_id})
            if job.get("status") in TERMINAL:
                return _clip_verdict(job, "polling (no realtime hint)")
        run.sleep(0.05)
    raise StepFailed(f"job {run.job_id} did not finish within {CLIP_TIMEOUT:.0f} s")


def _clip_verdict(job: dict[str, Any], path: str) -> str:
    if job.get("status") != "completed":
        raise StepFailed(f"job ended {job.get('status')}: {job.get('error')}")
    return f"completed, seen through {path}"


def _telemetry(run: _Run) -> str:
    run.sync.stop()  # the loop's own flush must not race the one below
    batch = {
        "batch_id": str(uuid.uuid4()),
        "events": [{"element": SMOKE_ELEMENT, "attempts": 1, "successes": 1}],
    }
    reply = run.transport.client.functions.invoke(
        "telemetry_batch", {"body": batch, "responseType": "json"}
    )
    if not isinstance(reply, dict) or reply.get("applied") is not True:
        raise StepFailed(f"telemetry_batch answered {reply!r}")
    delivered = run.sync.flush_telemetry()
    rows = run.transport.rpc("list_my_telemetry", {})
    elements = {row["element"]: row["attempts"] for row in rows}
    expected = {SMOKE_ELEMENT, "library_load", "create_initiated", "create_confirmed"}
    if missing := sorted(expected - elements.keys()):
        raise StepFailed(f"telemetry rows missing: {', '.join(missing)} (have {sorted(elements)})")
    metrics = run.transport.rpc("list_my_sync_metrics", {})
    confirmed = sum(m["count"] for m in metrics if m["bucket"] == "confirmed")
    latencies = sum(m["count"] for m in metrics if m["metric"] == "create_to_confirm_ms")
    if confirmed < 2 or latencies < 2:
        raise StepFailed(f"sync metrics incomplete: {metrics}")
    channel = run.transport.rpc("my_release_channel", {})
    return (
        f"{len(elements)} telemetry rows ({delivered} buffered events sent), "
        f"{confirmed} confirmed syncs and {latencies} latencies in channel {channel}"
    )


def _clean_up(run: _Run) -> str:
    from supabase import ClientOptions, create_client

    assert run.target.service_key is not None
    options = ClientOptions(auto_refresh_token=False, persist_session=False)
    admin = create_client(run.target.url, run.target.service_key, options=options)
    for user_id in run.created_users:
        admin.auth.admin.delete_user(user_id)
    # The test user's token is still a validly signed JWT: under its RLS nothing may be left.
    left = {
        name: len(run.transport.rpc(name, {}))
        for name in ("list_project_overviews", "list_clip_jobs", "list_my_telemetry")
    }
    if any(left.values()):
        raise StepFailed(f"rows left after deleting the user: {left}")
    return f"deleted {len(run.created_users)} user(s); none of their rows is left"


STEPS: list[tuple[str, Callable[[_Run], str]]] = [
    ("sign up", _sign_up),
    ("library renders", _library),
    ("create project", _create_project),
    ("create scene", _create_scene),
    ("submit clip", _submit_clip),
    ("clip completed", _clip_completed),
    ("telemetry", _telemetry),
]


def _describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if isinstance(error, StepFailed) else f"{type(error).__name__}: {text}"


def run_smoke(
    target: SmokeTarget,
    *,
    timer: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeReport:
    """Run every step in order; after a failure the remaining steps are skipped, but the
    clean-up still runs for any user that was created."""
    import supabase  # noqa: F401 - loaded before any step is timed

    report = SmokeReport()
    run = _Run(target, Path(tempfile.mkdtemp(prefix="directorstudio-smoke-")), sleep)
    try:
        for name, step in STEPS:
            if report.failed:
                report.steps.append(StepResult(name, 0.0, "skipped", "an earlier step failed"))
                continue
            report.steps.append(_timed(name, step, run, timer))
    finally:
        if run.sync is not None:
            run.sync.stop()
            run.sync.storage.close()
        shutil.rmtree(run.cache_dir, ignore_errors=True)
    if target.service_key is None:
        detail = f"no --service-key: user(s) {', '.join(run.created_users) or '-'} left in place"
        report.steps.append(StepResult("clean up", 0.0, "skipped", detail))
    elif not run.created_users:
        report.steps.append(StepResult("clean up", 0.0, "skipped", "no user was created"))
    else:
        report.steps.append(_timed("clean up", _clean_up, run, timer))
    return report


def _timed(
    name: str, step: Callable[[_Run], str], run: _Run, timer: Callable[[], float]
) -> StepResult:
    started = timer()
    try:
        detail, status = step(run), "ok"
    except Exception as error:  # every failure becomes the step's row
        detail, status = _describe(error), "failed"
    return StepResult(name, (timer() - started) * 1000.0, status, detail)


def render(report: SmokeReport) -> Any:
    """The report as a rich table with a closing line naming the failed steps."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="DirectorStudio smoke test")
    table.add_column("step")
    table.add_column("ms", justify="right")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    colours = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for step in report.steps:
        table.add_row(
            step.name, f"{step.ms:.0f}", f"[{colours[step.status]}]{step.status}[/]", step.detail
        )
    total = sum(s.ms for s in report.steps)
    if report.failed:
        names = ", ".join(s.name for s in report.failed)
        closing = Text.from_markup(f"[bold red]smoke failed[/] at: {names}")
    else:
        closing = Text.from_markup(f"[bold green]smoke passed[/] in {total:.0f} ms")
    return Group(table, closing)
