"""The checks after a chaos run; each returns the violations it found (empty: all good)."""

from __future__ import annotations

from typing import Any

import psycopg

from directorstudio_client import Storage
from tests.py.chaos.oracle import Oracle, UserModel

Conn = psycopg.Connection[Any]
Snapshot = dict[str, dict[str, tuple[Any, ...]]]
SCENE_FIELDS = ("project_id", "prompt_text", "duration", "order_index", "version")


def server_snapshot(conn: Conn, user_id: str) -> Snapshot:
    """What the server holds for a user, as the client's getters show it (live rows)."""
    projects = conn.execute(
        "SELECT project_id::text, title, scene_count, version FROM public.project_overview"
        " WHERE user_id = %s AND deleted_at IS NULL AND NOT archived",
        (user_id,),
    ).fetchall()
    scenes = conn.execute(
        "SELECT s.id::text, s.project_id::text, s.prompt_text, s.duration, s.order_index,"
        " s.version FROM public.scene_drafts s JOIN public.project_overview p"
        " ON p.project_id = s.project_id AND p.deleted_at IS NULL AND NOT p.archived"
        " WHERE s.user_id = %s AND s.deleted_at IS NULL AND NOT s.archived",
        (user_id,),
    ).fetchall()
    jobs = conn.execute(
        "SELECT id::text, status, version FROM public.clip_jobs WHERE user_id = %s", (user_id,)
    ).fetchall()
    return {
        "projects": {row[0]: tuple(row[1:]) for row in projects},
        "scenes": {row[0]: tuple(row[1:]) for row in scenes},
        "jobs": {row[0]: tuple(row[1:]) for row in jobs},
    }


def client_snapshot(storage: Storage, user_id: str) -> Snapshot:
    """The same shape read through the client's storage getters."""
    projects = storage.get_project_overviews(user_id)
    scenes = [s for p in projects for s in storage.get_scene_drafts(str(p["project_id"]))]
    return {
        "projects": {
            str(p["project_id"]): (p.get("title"), p.get("scene_count"), p.get("version"))
            for p in projects
        },
        "scenes": {
            str(s["id"]): tuple(
                str(s.get(k)) if k == "project_id" else s.get(k) for k in SCENE_FIELDS
            )
            for s in scenes
        },
        "jobs": {
            str(j["id"]): (j.get("status"), j.get("version"))
            for j in storage.get_clip_jobs(user_id)
        },
    }


def _scene_fields(scene: dict[str, Any]) -> tuple[Any, ...]:
    return (
        str(scene.get("project_id")),
        scene.get("prompt_text"),
        scene.get("duration"),
        scene.get("order_index"),
        scene.get("version"),
    )


def differences(name: str, server: Snapshot, client: Snapshot) -> list[str]:
    """Rows that differ between the server and one client."""
    found = []
    for table, rows in server.items():
        mine = client[table]
        for row_id in sorted(set(rows) | set(mine)):
            if rows.get(row_id) != mine.get(row_id):
                found.append(
                    f"{name} {table} {row_id}: server {rows.get(row_id)} client {mine.get(row_id)}"
                )
    return found


def oracle_violations(conn: Conn, oracle: Oracle, user: UserModel) -> list[str]:
    """Every generated operation is reflected exactly once, with last-writer-wins values."""
    found = []
    server = server_snapshot(conn, user.user_id)
    if set(server["projects"]) != set(user.projects):
        found.append(
            f"user {user.user_id} projects: server has {sorted(server['projects'])},"
            f" the op log made {sorted(user.projects)}"
        )
    sources = dict(
        conn.execute(
            "SELECT project_id::text, duplicated_from::text FROM public.project_overview"
            " WHERE user_id = %s",
            (user.user_id,),
        ).fetchall()
    )
    for project_id, source in user.projects.items():
        if sources.get(project_id, "missing") != source:
            found.append(f"project {project_id}: duplicated from {sources.get(project_id)}")
        title = server["projects"].get(project_id, (None,))[0]
        if title != oracle.expected("project_overview", project_id, "title"):
            found.append(
                f"project {project_id}: title {title!r}, last written"
                f" {oracle.expected('project_overview', project_id, 'title')!r}"
            )
    tombstones = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT id::text, deleted_at IS NOT NULL FROM public.scene_drafts WHERE user_id = %s",
            (user.user_id,),
        ).fetchall()
    }
    for scene_id in user.scenes:
        if scene_id not in tombstones:
            found.append(f"scene {scene_id}: lost (not on the server)")
        elif tombstones[scene_id] != (scene_id in user.deleted_scenes):
            found.append(f"scene {scene_id}: deleted is {tombstones[scene_id]} on the server")
        elif scene_id not in user.deleted_scenes:
            row = server["scenes"][scene_id]
            for index, name in ((1, "prompt_text"), (2, "duration")):
                expected = oracle.expected("scene_drafts", scene_id, name)
                if row[index] != expected:
                    found.append(
                        f"scene {scene_id} {name}: {row[index]!r}, last written {expected!r}"
                    )
    orders: dict[str, list[int]] = {}
    for row in server["scenes"].values():
        orders.setdefault(row[0], []).append(row[3])
    for project_id, (_title, scene_count, _version) in server["projects"].items():
        if scene_count != len(orders.get(project_id, [])):
            found.append(f"project {project_id}: scene_count {scene_count} is not its live scenes")
    for project_id, indexes in orders.items():
        if len(set(indexes)) != len(indexes):
            found.append(f"project {project_id}: scenes share an order_index {sorted(indexes)}")
    duplicated = {p for p, source in user.projects.items() if source is not None}
    for scene_id, row in server["scenes"].items():
        if scene_id not in user.scenes and row[0] not in duplicated:
            found.append(f"scene {scene_id}: on the server, never created by the op log")
    if set(server["jobs"]) != set(user.jobs):
        found.append(f"user {user.user_id} clip jobs differ from the op log")
    for job_id, (status, _version) in server["jobs"].items():
        expected_status = "canceled" if job_id in user.canceled_jobs else "queued"
        if status != expected_status:
            found.append(f"clip job {job_id}: {status}, expected {expected_status}")
    return found


def credit_violations(conn: Conn, user: UserModel) -> list[str]:
    """Credits equal grants - consumed + refunds, one charge per job, one refund per cancel."""
    found = []
    balance = conn.execute(
        "SELECT private.account_credits(user_key) FROM public.credits_ledger WHERE user_key = %s",
        (user.user_id,),
    ).fetchone()
    totals = dict(
        conn.execute(
            "SELECT kind, sum(delta) FROM public.credit_transactions WHERE user_key = %s"
            " GROUP BY kind",
            (user.user_id,),
        ).fetchall()
    )
    grants, consumed = totals.get("grant", 0), -totals.get("consume", 0)
    refunds = totals.get("refund", 0)
    if grants != user.granted:
        found.append(f"user {user.user_id}: granted {grants}, the test granted {user.granted}")
    if balance is None or balance[0] != grants - consumed + refunds:
        found.append(
            f"user {user.user_id}: balance {balance}, grants {grants} - consumed {consumed}"
            f" + refunds {refunds}"
        )
    per_job = conn.execute(
        "SELECT j.id::text, j.status,"
        " count(t.*) FILTER (WHERE t.kind IN ('consume', 'first_clip')),"
        " count(t.*) FILTER (WHERE t.kind IN ('refund', 'first_clip_refund'))"
        " FROM public.clip_jobs j LEFT JOIN public.credit_transactions t ON t.clip_job_id = j.id"
        " WHERE j.user_id = %s GROUP BY j.id, j.status",
        (user.user_id,),
    ).fetchall()
    for job_id, status, charges, refunded in per_job:
        if charges != 1 or refunded != (1 if status == "canceled" else 0):
            found.append(f"clip job {job_id} ({status}): {charges} charges, {refunded} refunds")
    return found


def outbox_violations(name: str, storage: Storage) -> list[str]:
    """Nothing left in the outbox (dead letters were settled during the run), no conflict."""
    found = [
        f"{name}: outbox entry {e.table}.{e.op} {e.row_id} left in {e.state}: {e.last_error}"
        for e in storage.get_pending_sync_entries()
    ]
    found.extend(
        f"{name}: unresolved conflict on {c.table} {c.id}" for c in storage.get_conflicts()
    )
    return found


def gateway_error_violations(errors: list[tuple[int, str, str]]) -> list[str]:
    """While a part restarts the gateway may answer 503 (JSON, retryable); nothing else 5xx."""
    return [
        f"gateway answered {status} ({kind or 'no content type'}) on {path}"
        for status, path, kind in errors
        if status != 503 or not kind.startswith("application/json")
    ]
