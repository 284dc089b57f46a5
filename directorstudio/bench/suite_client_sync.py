"""The client library against the server through supabase-py and the local gateway.

Outbox replay after a long time offline (next to one rpc call per mutation, and to raw
multi-row INSERT/UPDATE of the same rows on the same tables, with and without their triggers),
initial sync of a fresh client, and the optimistic create confirmed by the server.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.string import TextLoader

from directorstudio.bench.client_stack import running_gateway, signed_in_client
from directorstudio.bench.database import durable_database, populate
from directorstudio.bench.model import BenchOptions, Row, at_least, at_most, info, median, repeat
from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio_client import SQLiteStorage, SyncService

NAME = "client_sync"
SCENES_PER_PROJECT = 6
MUTATIONS_PER_PROJECT = SCENES_PER_PROJECT + 4  # create, scenes, edit, reorder, delete


def queue_project_work(sync: SyncService, mutations: int) -> None:
    """Offline work of ``mutations`` mutations: per project a create, its scenes, an edit, a
    reorder and a delete."""
    for n in range(mutations // MUTATIONS_PER_PROJECT):
        project = sync.create_project(f"Replayed {n}").row_id
        scenes = [
            sync.create_scene_draft(project, f"Scene {k}", 2.0).row_id
            for k in range(SCENES_PER_PROJECT)
        ]
        sync.update_scene_draft(scenes[0], {"prompt_text": "Edited offline"})
        sync.reorder_scene_drafts(project, list(reversed(scenes)))
        sync.delete_scene_draft(scenes[-1])


def drain(sync: SyncService) -> float:
    """Seconds until the outbox is empty."""
    started = time.perf_counter()
    while sync.health().counts["pending"] + sync.health().counts["retry_wait"]:
        report = sync.run_once()
        if report.pushes and report.pushes[-1].failed:
            raise RuntimeError(f"the replay failed: {report.pushes[-1].error}")
    return time.perf_counter() - started


def _raw_statements(projects: str, scenes: str) -> list[str]:
    return [
        f"INSERT INTO {projects} (project_id, user_id, title)"
        " SELECT p, %(user)s, 'Raw ' || p FROM unnest(%(projects)s::uuid[]) AS p",
        f"INSERT INTO {scenes} (id, user_id, project_id, order_index, prompt_text, duration)"
        " SELECT s, %(user)s, p, o, 'Scene', 2.0"
        " FROM unnest(%(scenes)s::uuid[], %(scene_projects)s::uuid[], %(orders)s::int[])"
        " AS v (s, p, o)",
        f"UPDATE {scenes} SET prompt_text = 'Edited' WHERE id = ANY (%(edited)s::uuid[])",
        f"UPDATE {scenes} AS s SET order_index = v.o FROM unnest(%(scenes)s::uuid[],"
        " %(reordered)s::int[]) AS v (id, o) WHERE s.id = v.id",
        f"UPDATE {scenes} SET archived = true, deleted_at = now()"
        " WHERE id = ANY (%(deleted)s::uuid[])",
    ]


def _records(scenes: str) -> str:
    """The push's exactly-once records of the work: one per mutation, each with a row."""
    return (
        "INSERT INTO private.sync_mutations (user_id, client_id, mutation_id, outcome)"
        " SELECT %(user)s, %(client)s, %(first)s::bigint + v.o - 1, jsonb_build_object("
        "'table', 'scene_drafts', 'op', 'update', 'id', s.id, 'row', to_jsonb(s))"
        f" FROM unnest(%(recorded)s::uuid[]) WITH ORDINALITY AS v (id, o) JOIN {scenes} AS s"
        " ON s.id = v.id"
    )


def _raw_params(user: str, client: uuid.UUID, projects: int, first: int) -> dict[str, Any]:
    """The statements' parameters for ``projects`` projects' work, numbered from ``first``."""
    project_ids = [uuid.uuid4() for _ in range(projects)]
    scene_ids = [uuid.uuid4() for _ in range(projects * SCENES_PER_PROJECT)]
    return {
        "user": user,
        "client": client,
        "projects": project_ids,
        "scenes": scene_ids,
        "scene_projects": [p for p in project_ids for _ in range(SCENES_PER_PROJECT)],
        "orders": [k for _ in project_ids for k in range(SCENES_PER_PROJECT)],
        "reordered": [SCENES_PER_PROJECT - 1 - k for _ in project_ids for k in range(6)],
        "edited": scene_ids[::SCENES_PER_PROJECT],
        "deleted": scene_ids[SCENES_PER_PROJECT - 1 :: SCENES_PER_PROJECT],
        "first": first,
        "recorded": [
            scene_ids[k % len(scene_ids)] for k in range(projects * MUTATIONS_PER_PROJECT)
        ],
    }


def raw_write_rate(
    url: str,
    user: str,
    mutations: int,
    projects: str,
    scenes: str,
    *,
    per_transaction: int | None = None,
    records: bool = False,
) -> float:
    """Rows per second of the same work as multi-row statements, in one transaction (or in
    transactions of ``per_transaction`` mutations), with the push's exactly-once records of
    the mutations when ``records`` is set."""
    count = mutations // MUTATIONS_PER_PROJECT
    client = uuid.uuid4()
    step = count if per_transaction is None else max(per_transaction // MUTATIONS_PER_PROJECT, 1)
    chunks = [
        _raw_params(user, client, min(step, count - at), at * MUTATIONS_PER_PROJECT + 1)
        for at in range(0, count, step)
    ]
    statements = _raw_statements(projects, scenes) + ([_records(scenes)] if records else [])
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for params in chunks:
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement, params)
        elapsed = time.perf_counter() - started
    return count * MUTATIONS_PER_PROJECT / elapsed


def trigger_less_copies(url: str) -> tuple[str, str]:
    """Copies of the projects and scenes tables with their defaults and no triggers."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("project_overview", "scene_drafts"):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS public.bench_{table}"
                f" (LIKE public.{table} INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
    return "public.bench_project_overview", "public.bench_scene_drafts"


def seed_rows(url: str, user: str, rows: int) -> None:
    """``rows`` rows of the user on the server (projects of ten scenes)."""
    projects = max(rows // 11, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.project_overview (project_id, user_id, title)"
            " SELECT gen_random_uuid(), %s, 'Seeded ' || n FROM generate_series(1, %s) n",
            (user, projects),
        )
        conn.execute(
            "INSERT INTO public.scene_drafts"
            " (id, user_id, project_id, order_index, prompt_text, duration)"
            " SELECT gen_random_uuid(), p.user_id, p.project_id, n, 'Scene ' || n, 3"
            " FROM public.project_overview p, generate_series(0, 9) n WHERE p.user_id = %s",
            (user,),
        )
        conn.execute("ANALYZE")


def json_as_text(url: str) -> psycopg.Connection[Any]:
    """A connection that hands json and jsonb values over as the server's text, undecoded, so
    a rate measured through it is the server's and the wire's, not Python's JSON decoding."""
    conn = psycopg.connect(url)
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    return conn


def server_pull_rate(url: str, user: str) -> float:
    """Rows per second of every sync_pull page of the user, as the database serves them: each
    page's request (its transaction, the call, the page received as text) is timed, as the
    baseline times its SELECT; decoding the page in Python, which the baseline does not do,
    is left out of the time."""
    rows = 0
    cursor = None
    seconds = 0.0
    with json_as_text(url) as conn:
        while True:
            started = time.perf_counter()
            with request_transaction(conn, "authenticated", claims_for_user(user)):
                answer = conn.execute("SELECT public.sync_pull(%s, 1000)", (cursor,)).fetchone()
            seconds += time.perf_counter() - started
            assert answer is not None
            page = orjson.loads(answer[0])
            rows += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return rows / seconds


def raw_select_rate(url: str, user: str) -> float:
    """Rows per second of a plain SELECT of the same rows as JSON by the table owner (each row
    received as text)."""
    with json_as_text(url) as conn:
        started = time.perf_counter()
        rows = 0
        for table in ("project_overview", "scene_drafts"):
            rows += len(
                conn.execute(
                    f"SELECT to_jsonb(t) FROM public.{table} AS t WHERE t.user_id = %s", (user,)
                ).fetchall()
            )
        return rows / (time.perf_counter() - started)


class ClientSyncSuite:
    """Replay, initial sync and create-to-confirmed through supabase-py."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        replayed, single, synced = (200, 50, 2000) if options.quick else (10000, 300, 50000)
        with (
            durable_database() as url,
            running_gateway(url) as (api, anon),
            tempfile.TemporaryDirectory(prefix="directorstudio-bench-sync-") as tmp,
        ):
            base = Path(tmp)
            rows = self._replay(url, api, anon, base, replayed, single, options)
            rows.extend(self._initial_sync(url, api, anon, base, synced, options))
            rows.append(self._create_confirmed(api, anon, base, options))
        return rows

    def _replay(
        self, url: str, api: str, anon: str, base: Path, replayed: int, single: int,
        options: BenchOptions,
    ) -> list[Row]:  # fmt: skip
        with psycopg.connect(url, autocommit=True) as conn:
            # Other users' rows, analyzed, as in a database in service (see suite_sync_push).
            populate(conn, 5 if options.quick else 50)

        def replay(n: int) -> float:
            sync, network = signed_in_client(api, anon, base / f"replay-{uuid.uuid4()}.db")
            network.online = False
            queue_project_work(sync, replayed)
            queued = sync.health().counts["pending"]
            network.online = True
            rate = queued / drain(sync)
            sync.storage.close()
            return rate

        def one_rpc_each(n: int) -> float:
            sync, _ = signed_in_client(api, anon, base / f"single-{uuid.uuid4()}.db")
            transport = sync.transport
            client = str(uuid.uuid4())
            started = time.perf_counter()
            for k in range(single):
                mutation = {
                    "mutation_id": k + 1, "table": "project_overview", "op": "upsert",
                    "id": str(uuid.uuid4()), "args": {"title": f"One by one {k}"},
                }  # fmt: skip
                transport.rpc("sync_push", {"p_client_id": client, "p_mutations": [mutation]})
            sync.storage.close()
            return single / (time.perf_counter() - started)

        rates = [replay(n) for n in range(options.repetitions)]
        singles = [one_rpc_each(n) for n in range(options.repetitions)]
        with psycopg.connect(url) as conn:
            user = str(conn.execute("SELECT id FROM public.app_users LIMIT 1").fetchone()[0])  # type: ignore[index]
        raw = repeat(
            lambda: raw_write_rate(url, user, replayed, "public.project_overview",
                                   "public.scene_drafts"), options.repetitions,
        )  # fmt: skip
        copies = trigger_less_copies(url)
        bare = repeat(lambda: raw_write_rate(url, user, replayed, *copies), options.repetitions)
        return [
            at_least(
                NAME, f"outbox replay of {replayed} mutations", "mut/s", rates, 5000,
                baseline="one rpc per mutation", baseline_values=singles, min_ratio=20,
            ),
            at_least(
                NAME, "outbox replay vs raw multi-row writes", "mut/s", rates, None,
                baseline="raw INSERT/UPDATE, same triggers", baseline_values=raw, min_ratio=0.5,
            ),
            at_least(
                NAME, "raw multi-row writes with triggers", "rows/s", raw, None,
                baseline="trigger-less copies", baseline_values=bare, min_ratio=1 / 3,
            ),
        ]  # fmt: skip

    def _initial_sync(
        self, url: str, api: str, anon: str, base: Path, rows: int, options: BenchOptions
    ) -> list[Row]:
        seeded, _ = signed_in_client(api, anon, base / "seeded-owner.db")
        seed_rows(url, seeded.user_id, rows)
        token_transport = seeded.transport
        seconds = []
        cpu_seconds = []
        pulled = 0
        for n in range(options.repetitions):
            fresh = SyncService(
                SQLiteStorage(base / f"fresh-{n}.db"), token_transport,
                user_id=seeded.user_id, client_id=str(uuid.uuid4()),
            )  # fmt: skip
            fresh.realtime_enabled = False
            started, cpu_started = time.perf_counter(), time.process_time()
            pulled = fresh.pull()
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(time.process_time() - cpu_started)
            fresh.storage.close()
        server = repeat(lambda: server_pull_rate(url, seeded.user_id), options.repetitions)
        raw = repeat(lambda: raw_select_rate(url, seeded.user_id), options.repetitions)
        return [
            at_most(NAME, f"initial sync of {pulled} rows", "s", seconds, 5.0),
            # The client's own CPU (both its threads; the gateway and PostgreSQL run apart):
            # steadier than the wall time on a shared machine.
            info(NAME, f"initial sync of {pulled} rows, client CPU", "s", cpu_seconds),
            at_least(
                NAME, "sync_pull pages, server side", "rows/s", server, 50000,
                baseline="raw psycopg SELECT", baseline_values=raw,
            ),
        ]  # fmt: skip

    def _create_confirmed(self, api: str, anon: str, base: Path, options: BenchOptions) -> Row:
        sync, _ = signed_in_client(api, anon, base / "creates.db")
        rounds = 20 if options.quick else 100

        def once() -> list[float]:
            samples = []
            for k in range(rounds):
                started = time.perf_counter()
                handle = sync.create_project(f"Confirmed {k}")
                sync.run_once()
                handle.result(timeout=30)
                samples.append((time.perf_counter() - started) * 1000)
            return samples

        runs = repeat(once, options.repetitions)
        sync.storage.close()
        return at_most(
            NAME, "optimistic create -> server-confirmed p50", "ms",
            [median(r) for r in runs], 10.0, p95_of=[s for r in runs for s in r],
        )  # fmt: skip


SUITE = ClientSyncSuite()
