"""Enqueue under contention: 16 workers charging one ``user_key`` through the rpc
``enqueue_clip_job`` (as PostgREST runs it: role and claims in one transaction per call), next to
16 clients doing single-row INSERT transactions on the same database.

All charges fall on one account (its row and credit buckets, docs/clips.md#credits); the
baseline shows what the same database commits per second when nothing is shared. Exactness: the
jobs created equal the credits consumed and the charges recorded (else :class:`ExactnessError`).

Each side keeps its 16 connections for the whole suite, as PostgREST keeps its pool: the
warm-up round warms the very sessions that are measured (their catalog caches and the compiled
functions and plans a new session builds at its first calls), so no round pays for a fresh
session.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any

import psycopg

from directorstudio.bench.database import durable_database
from directorstudio.bench.model import BenchOptions, Row, at_least, repeat
from directorstudio.bench.suite_dispatch import (
    WORKERS,
    _account,
    _check_exact,
    _concurrently,
    enqueue_once,
)
from directorstudio.db.context import claims_for_user

NAME = "enqueue"
TARGET_PER_SECOND = 1000.0
INSERTS_TABLE = "public.bench_single_row_inserts"

Work = Callable[[int], Callable[[], None]]


@contextmanager
def _sessions(url: str, *, autocommit: bool) -> Iterator[list[psycopg.Connection[Any]]]:
    """``WORKERS`` connections, kept open until the block ends."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(psycopg.connect(url, autocommit=autocommit)) for _ in range(WORKERS)
        ]


def _rpc_work(sessions: list[psycopg.Connection[Any]], user: uuid.UUID) -> Work:
    """Worker ``index`` enqueues (:func:`enqueue_once`) on session ``index``."""
    claims = claims_for_user(str(user))
    return lambda index: partial(enqueue_once, sessions[index], user, claims)


def _insert_work(sessions: list[psycopg.Connection[Any]]) -> Work:
    """Worker ``index`` commits single-row INSERT transactions on session ``index``."""

    def work(index: int) -> Callable[[], None]:
        conn = sessions[index]

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
        with (
            durable_database() as url,
            psycopg.connect(url, autocommit=True) as admin,
            _sessions(url, autocommit=True) as rpc_sessions,
            _sessions(url, autocommit=False) as insert_sessions,
        ):
            admin.execute(
                f"CREATE TABLE IF NOT EXISTS {INSERTS_TABLE} (id uuid PRIMARY KEY, note text)"
            )

            def rpc_round() -> float:
                user = _account(admin)
                rate = _concurrently(WORKERS, per_worker, _rpc_work(rpc_sessions, user))
                _check_exact(admin, user, WORKERS * per_worker)
                return rate

            def inserts_round() -> float:
                return _concurrently(WORKERS, per_worker, _insert_work(insert_sessions))

            rpc_round()  # warm-up of the sessions: catalog caches, compiled functions, plans
            inserts_round()
            rpc = repeat(rpc_round, options.repetitions)
            inserts = repeat(inserts_round, options.repetitions)
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
