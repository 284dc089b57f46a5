"""A durable throwaway PostgreSQL for benchmarks, filled with many users' rows, and timers."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio.migrate import migrate
from directorstudio.pgcluster import LocalCluster, free_port

Call = Callable[[psycopg.Connection[Any], int], object]


@contextmanager
def durable_database() -> Iterator[str]:
    """``$DATABASE_URL`` (a superuser URL of a database it may fill), else a fresh cluster.

    The cluster is durable, as in production: every commit waits for its WAL flush.
    """
    if url := os.environ.get("DATABASE_URL"):
        migrate(url)
        yield url
        return
    base = Path(tempfile.mkdtemp(prefix="directorstudio-bench-"))
    cluster = LocalCluster(base, free_port())
    cluster.start({"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"})
    try:
        migrate(cluster.url())
        yield cluster.url()
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def populate(conn: psycopg.Connection[Any], users: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``users`` users, each with 20 projects of 10 scenes; one (user, project) pair each."""
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


def timed_as_user(url: str, user: uuid.UUID, rounds: int, call: Call) -> list[float]:
    """Milliseconds of each of ``rounds`` API requests of ``user`` running ``call``."""
    samples = []
    with psycopg.connect(url) as conn:
        for i in range(rounds):
            start = time.perf_counter()
            with request_transaction(conn, "authenticated", claims_for_user(str(user))):
                call(conn, i)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_as_owner(url: str, rounds: int, call: Call) -> list[float]:
    """Milliseconds of each of ``rounds`` plain transactions of the table owner."""
    samples = []
    with psycopg.connect(url) as conn:
        for i in range(rounds):
            start = time.perf_counter()
            with conn.transaction():
                call(conn, i)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def threaded(url: str, users: list[uuid.UUID], rounds: int, call: Call) -> list[float]:
    """:func:`timed_as_user` for each user in its own thread, all samples together."""
    samples: list[float] = []
    lock = threading.Lock()

    def worker(user: uuid.UUID) -> None:
        mine = timed_as_user(url, user, rounds, call)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples
