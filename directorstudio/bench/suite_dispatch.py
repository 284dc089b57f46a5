"""Clip enqueue throughput: 16 concurrent HTTP enqueues on one user_key through the real
``enqueue_clip`` function (functions-framework over HTTP, dispatching each job to a render
service on localhost), next to the same 16 workers calling the rpc ``enqueue_clip_job`` directly.

Every job charges one account (its row and credit buckets), the worst case of the enqueue
path. Exactness: the jobs created equal the credits consumed, and every HTTP job
reached the render service exactly once; otherwise :class:`ExactnessError`.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from directorstudio.bench.database import durable_database
from directorstudio.bench.functions import ServedFunctions, functions_with_render_service
from directorstudio.bench.model import BenchOptions, ExactnessError, Row, at_least, repeat
from directorstudio.bench.render_service import FakeRenderService
from directorstudio.db.context import call_at_once, claims_for_user

NAME = "dispatch"
WORKERS = 16
TARGET_PER_SECOND = 500.0
START_CREDITS = 10_000_000


Work = Callable[[int], Callable[[], None]]


def _concurrently(workers: int, per_worker: int, work: Work) -> float:
    """Requests per second of ``workers`` threads each calling its function ``per_worker``
    times (each thread's set-up is done before the clock starts)."""
    barrier = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        call = work(index)
        barrier.wait()
        try:
            for _ in range(per_worker):
                call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise ExactnessError(f"a request failed: {errors[0]!r}")
    return workers * per_worker / elapsed


def _http_worker(served: ServedFunctions, user: uuid.UUID) -> Work:
    target = urlsplit(served.url)
    token = served.user_token(user)

    def work(_index: int) -> Callable[[], None]:
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def call() -> None:
            body = {"job_id": str(uuid.uuid4()), "prompt": "Bench clip", "user_key": str(user)}
            conn.request("POST", "/functions/v1/enqueue_clip", json.dumps(body), headers)
            reply = conn.getresponse()
            answer = reply.read()
            if reply.status != 201:
                raise ExactnessError(f"enqueue_clip answered {reply.status}: {answer[:200]!r}")

        return call

    return work


def enqueue_once(conn: psycopg.Connection[Any], user: uuid.UUID, claims: Mapping[str, Any]) -> None:
    """One enqueue on ``user``'s account as the API calls it: the request context and the call
    in one round trip, one transaction (what the functions' ``enqueue_clip`` sends,
    :func:`directorstudio.db.context.call_at_once`)."""
    args = {"p_job_id": uuid.uuid4(), "p_user_key": str(user), "p_prompt": "Bench clip"}
    call_at_once(conn, "authenticated", claims, "enqueue_clip_job", args)


def _rpc_worker(url: str, user: uuid.UUID) -> Work:
    """Each worker calls the rpc (:func:`enqueue_once`) on its own connection."""

    def work(_index: int) -> Callable[[], None]:
        conn = psycopg.connect(url, autocommit=True)
        claims = claims_for_user(str(user))
        return lambda: enqueue_once(conn, user, claims)

    return work


def _account(conn: psycopg.Connection[Any]) -> uuid.UUID:
    user = uuid.uuid4()
    conn.execute(
        "INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user, f"bench-{user}@example.com")
    )
    conn.execute(
        "UPDATE public.credits_ledger SET credits = %s, first_clip_consumed = true"
        " WHERE user_key = %s",
        (START_CREDITS, str(user)),
    )
    return user


def _check_exact(conn: psycopg.Connection[Any], user: uuid.UUID, expected: int) -> None:
    """Jobs created = credits consumed (the account's whole balance: its row and its credit
    buckets) = charges recorded = ``expected``, and no credit bucket below zero."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM public.clip_jobs WHERE user_key = %(k)s),"
        " %(start)s - private.account_credits(%(k)s),"
        " (SELECT count(*) FROM public.credit_transactions"
        "   WHERE user_key = %(k)s AND kind = 'consume')",
        {"k": str(user), "start": START_CREDITS},
    ).fetchone()
    assert row is not None
    jobs, consumed, charges = (int(value) for value in row)
    if not jobs == consumed == charges == expected:
        raise ExactnessError(
            f"{expected} enqueues: {jobs} jobs, {consumed} credits consumed, {charges} charges"
        )


class DispatchSuite:
    """HTTP enqueue with dispatch vs the rpc alone, 16 workers on one account."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        per_worker = 8 if options.quick else 60
        with (
            durable_database() as url,
            tempfile.TemporaryDirectory(prefix="directorstudio-bench-fn-") as folder,
            FakeRenderService().running() as render,
            functions_with_render_service(url, Path(folder), render) as served,
            psycopg.connect(url, autocommit=True) as admin,
        ):

            def http_round() -> float:
                user = _account(admin)
                sent = render.total()
                rate = _concurrently(WORKERS, per_worker, _http_worker(served, user))
                _check_exact(admin, user, WORKERS * per_worker)
                if (
                    render.total() - sent != WORKERS * per_worker
                    or max(render.requests.values()) > 1
                ):
                    raise ExactnessError("a job was not sent to the render service exactly once")
                return rate

            def rpc_round() -> float:
                user = _account(admin)
                rate = _concurrently(WORKERS, per_worker, _rpc_worker(url, user))
                _check_exact(admin, user, WORKERS * per_worker)
                return rate

            http_round()  # warm-up: the functions' first connections and imports
            http_rates = repeat(http_round, options.repetitions)
            rpc_rates = repeat(rpc_round, options.repetitions)
        return [
            at_least(
                NAME,
                f"enqueue_clip over HTTP with dispatch ({WORKERS} workers, one user_key)",
                "req/s",
                http_rates,
                TARGET_PER_SECOND,
                baseline="rpc enqueue_clip_job",
                baseline_values=rpc_rates,
            )
        ]


SUITE = DispatchSuite()
