"""Database benchmarks: latency of the hot rpc paths against a real local PostgreSQL.

Run: .venv/bin/python bench/database.py [--users 50] [--rounds 200]

It starts a throwaway PostgreSQL from the local binaries (or uses $DATABASE_URL, which must be a
superuser URL of a database it may fill), applies every migration, fills it with many users'
rows, then times each call through PostgREST's request context (role + JWT claims in one
transaction), exactly as the API runs it. Prints p50/p95 per call and the target it must meet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio.migrate import migrate
from directorstudio.pgcluster import LocalCluster, free_port

# Targets (milliseconds, p95) derived from the handoff's SLAs: create-to-confirm median < 3 s
# end to end leaves the database a small share; list and pull are on the screen-render path.
TARGETS_MS = {
    "list_project_overviews": 20.0,
    "list_scene_drafts": 20.0,
    "create_scene_draft": 25.0,
    "update_scene_draft": 25.0,
    "enqueue_clip_job (8 threads)": 50.0,
    "sync_pull (500-row page)": 100.0,
    "sync_push (20 mutations)": 150.0,
    "batch_upsert_telemetry (50 events)": 30.0,
}


@contextmanager
def database() -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    base = Path(tempfile.mkdtemp(prefix="directorstudio-bench-"))
    cluster = LocalCluster(base, free_port())
    # Durable settings, as in production: every commit waits for its WAL flush.
    cluster.start({"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"})
    try:
        yield cluster.url()
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def populate(conn: psycopg.Connection[Any], users: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``users`` users, each with 20 projects of 10 scenes and 10 credits; one project each."""
    conn.execute(
        "INSERT INTO auth.users (id, email) SELECT gen_random_uuid(),"
        " 'bench' || n || '@example.com' FROM generate_series(1, %s) n",
        (users,),
    )
    conn.execute(
        "INSERT INTO public.project_overview (project_id, user_id, title)"
        " SELECT gen_random_uuid(), u.id, 'Project ' || n"
        " FROM public.app_users u, generate_series(1, 20) n"
    )
    conn.execute(
        "INSERT INTO public.scene_drafts"
        " (id, user_id, project_id, order_index, prompt_text, duration)"
        " SELECT gen_random_uuid(), p.user_id, p.project_id, n, 'Scene ' || n, 3"
        " FROM public.project_overview p, generate_series(0, 9) n"
    )
    conn.execute("UPDATE public.credits_ledger SET credits = 100000")
    conn.execute("ANALYZE")
    rows = conn.execute(
        "SELECT DISTINCT ON (user_id) user_id, project_id FROM public.project_overview"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def timed(
    url: str, user: uuid.UUID, rounds: int, call: Callable[[psycopg.Connection[Any], int], None]
) -> list[float]:
    samples = []
    with psycopg.connect(url) as conn:
        for i in range(rounds):
            start = time.perf_counter()
            with request_transaction(conn, "authenticated", claims_for_user(str(user))):
                call(conn, i)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def threaded(
    url: str,
    users: list[uuid.UUID],
    rounds: int,
    call: Callable[[psycopg.Connection[Any], int], None],
) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def worker(user: uuid.UUID) -> None:
        mine = timed(url, user, rounds, call)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def report(name: str, samples: list[float]) -> bool:
    p50 = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    target = TARGETS_MS[name]
    ok = p95 <= target
    print(
        f"{name:38} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  target p95 <= {target:5.0f} ms  "
        f"{'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with database() as url:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as admin:
            pairs = populate(admin, args.users)
        user, project = pairs[0]
        rounds = args.rounds
        results = []

        results.append(
            report(
                "list_project_overviews",
                timed(
                    url,
                    user,
                    rounds,
                    lambda c, i: c.execute(
                        "SELECT * FROM public.list_project_overviews()"
                    ).fetchall(),
                ),
            )
        )
        results.append(
            report(
                "list_scene_drafts",
                timed(
                    url,
                    user,
                    rounds,
                    lambda c, i: c.execute(
                        "SELECT * FROM public.list_scene_drafts(%s)", (project,)
                    ).fetchall(),
                ),
            )
        )
        scene_ids = [uuid.uuid4() for _ in range(rounds)]
        results.append(
            report(
                "create_scene_draft",
                timed(
                    url,
                    user,
                    rounds,
                    lambda c, i: c.execute(
                        "SELECT public.create_scene_draft(%s, %s, 'Bench scene', 2.0)",
                        (scene_ids[i], project),
                    ),
                ),
            )
        )
        results.append(
            report(
                "update_scene_draft",
                timed(
                    url,
                    user,
                    rounds,
                    lambda c, i: c.execute(
                        "SELECT public.update_scene_draft(%s, version, jsonb_build_object("
                        "'prompt_text', 'Edit ' || %s::text))"
                        " FROM public.scene_drafts WHERE id = %s",
                        (scene_ids[i], i, scene_ids[i]),
                    ),
                ),
            )
        )
        workers = [u for u, _ in pairs[:8]]
        results.append(
            report(
                "enqueue_clip_job (8 threads)",
                threaded(
                    url,
                    workers,
                    rounds // 4,
                    lambda c, i: c.execute(
                        "SELECT public.enqueue_clip_job(%s, auth.uid()::text, 'Bench clip')",
                        (uuid.uuid4(),),
                    ),
                ),
            )
        )
        results.append(
            report(
                "sync_pull (500-row page)",
                timed(
                    url,
                    user,
                    max(rounds // 10, 20),
                    lambda c, i: c.execute("SELECT public.sync_pull(NULL, 500)").fetchone(),
                ),
            )
        )
        client_id = uuid.uuid4()

        def push(c: psycopg.Connection[Any], i: int) -> None:
            mutations = [
                {
                    "mutation_id": i * 20 + k + 1,
                    "table": "scene_drafts",
                    "op": "create",
                    "id": str(uuid.uuid4()),
                    "base_version": None,
                    "args": {"project_id": str(project), "prompt_text": "Pushed", "duration": 2},
                }
                for k in range(20)
            ]
            c.execute(
                "SELECT public.sync_push(%s, %s::jsonb)",
                (client_id, psycopg.types.json.Json(mutations)),
            )

        results.append(
            report("sync_push (20 mutations)", timed(url, user, max(rounds // 10, 20), push))
        )

        def telemetry(c: psycopg.Connection[Any], i: int) -> None:
            events = [{"element": f"element-{k}", "attempts": 2, "successes": 1} for k in range(50)]
            c.execute(
                "SELECT public.batch_upsert_telemetry(%s, %s::jsonb)",
                (uuid.uuid4(), psycopg.types.json.Json(events)),
            )

        results.append(
            report("batch_upsert_telemetry (50 events)", timed(url, user, rounds, telemetry))
        )
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
