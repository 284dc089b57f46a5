"""Enqueue under contention: 16 workers charging one ``user_key`` through the rpc
``enqueue_clip_job`` (as PostgREST runs it: role and claims in one transaction per call), next to
16 clients doing single-row INSERT transactions on the same database.

All charges fall on one account (its row and credit buckets, docs/clips.md#credits); the
baseline shows what the same database commits per second when nothing is shared. Exactness: the
jobs created equal the credits consumed and the charges recorded (else :class:`ExactnessError`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg

from directorstudio.bench.database import durable_database
from directorstudio.bench.model import BenchOptions, Row, at_least, repeat
from directorstudio.bench.suite_dispatch import (
    WORKERS,
    _account,
    _check_exact,
    _concurrently,
    _rpc_worker,
)

NAME = "enqueue"
TARGET_PER_SECOND = 1000.0
INSERTS_TABLE = "public.bench_single_row_inserts"


def _insert_worker(url: str) -> Callable[[int], Callable[[], None]]:
    def work(_index: int) -> Callable[[], None]:
        conn = psycopg.connect(url)

        def call() -> None:
            with conn.transaction():
                conn.execute(f"INSERT INTO {INSERTS_TABLE} (id, note) VALUES (%s, 'x')",
                             (uuid.uuid4(),))  # fmt: skip

        return call

    return work


class EnqueueSuite:
    """16 workers on one account through rpc, next to 16 independent single-row inserters."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        per_worker = 10 if options.quick else 100
        with durable_database() as url, psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                f"CREATE TABLE IF NOT EXISTS {INSERTS_TABLE} (id uuid PRIMARY KEY, note text)"
            )

            def rpc_round() -> float:
                user = _account(admin)
                rate = _concurrently(WORKERS, per_worker, _rpc_worker(url, user))
                _check_exact(admin, user, WORKERS * per_worker)
                return rate

            rpc_round()  # warm-up: connections, plans
            rpc = repeat(rpc_round, options.repetitions)
            inserts = repeat(
                lambda: _concurrently(WORKERS, per_worker, _insert_worker(url)),
                options.repetitions,
            )
        return [
            at_least(
                NAME,
                f"enqueue_clip_job rpc, {WORKERS} workers on one user_key (exact)",
                "jobs/s",
                rpc,
                TARGET_PER_SECOND,
                baseline=f"{WORKERS} clients, single-row INSERT transactions",
                baseline_values=inserts,
            )
        ]


SUITE = EnqueueSuite()
