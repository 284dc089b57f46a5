"""Concurrent telemetry writers on separate connections lose no increment and replay nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user

Conn = psycopg.Connection[Any]
T = TypeVar("T")

WRITERS = 8
BATCHES_PER_WRITER = 5
DAY = "2026-11-20"
BARRIER_TIMEOUT = 60.0


def _send_batch(conn: Conn, user_id: uuid.UUID, batch_id: uuid.UUID, events: Any) -> Any:
    with request_transaction(conn, "authenticated", claims_for_user(str(user_id))):
        row = conn.execute(
            "SELECT public.batch_upsert_telemetry(%s, %s)", (batch_id, Jsonb(events))
        ).fetchone()
    assert row is not None
    return row[0]


def _run_writers(database_url: str, writer: Callable[[Conn, threading.Barrier, int], T]) -> list[T]:
    """Run ``writer`` on WRITERS threads, each with its own connection, sharing one barrier."""
    barrier = threading.Barrier(WRITERS, timeout=BARRIER_TIMEOUT)

    def run(index: int) -> T:
        with psycopg.connect(database_url, autocommit=True) as conn:
            return writer(conn, barrier, index)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        futures = [pool.submit(run, index) for index in range(WRITERS)]
        return [future.result() for future in futures]


def _events(writer: int, batch: int) -> list[dict[str, Any]]:
    """Two elements per batch, listed in an order that varies between writers."""
    events = [
        {
            "element": "lighting",
            "attempts": writer + batch + 2,
            "successes": writer + 1,
            "day": DAY,
        },
        {"element": "props", "attempts": 3, "successes": batch % 4, "day": DAY},
        {"element": "lighting", "attempts": 1, "successes": 1, "day": DAY},
    ]
    return events if writer % 2 == 0 else list(reversed(events))


def _totals(admin_conn: Conn, user_id: uuid.UUID) -> dict[str, tuple[int, int, float]]:
    rows = admin_conn.execute(
        "SELECT element, attempts, successes, rate FROM public.continuity_telemetry "
        "WHERE user_id = %s AND day = %s",
        (user_id, DAY),
    ).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2]), float(r[3])) for r in rows}


def test_eight_concurrent_writers_lose_no_increment(database_url: str, admin_conn: Conn) -> None:
    user_id = create_user(admin_conn, "busy@example.com")

    def writer(conn: Conn, barrier: threading.Barrier, index: int) -> list[bool]:
        applied = []
        for batch in range(BATCHES_PER_WRITER):
            barrier.wait()
            result = _send_batch(conn, user_id, uuid.uuid4(), _events(index, batch))
            applied.append(bool(result["applied"]))
        return applied

    outcomes = _run_writers(database_url, writer)

    assert all(all(applied) for applied in outcomes)
    expected: dict[str, list[int]] = {}
    for index in range(WRITERS):
        for batch in range(BATCHES_PER_WRITER):
            for event in _events(index, batch):
                sums = expected.setdefault(event["element"], [0, 0])
                sums[0] += event["attempts"]
                sums[1] += event["successes"]
    totals = _totals(admin_conn, user_id)
    assert {element: (a, s) for element, (a, s, _) in totals.items()} == {
        element: (a, s) for element, (a, s) in expected.items()
    }
    for attempts, successes, rate in totals.values():
        assert rate == successes / attempts
    recorded = admin_conn.execute(
        "SELECT count(*) FROM private.telemetry_batches WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert recorded == (WRITERS * BATCHES_PER_WRITER,)


def test_a_batch_replayed_by_concurrent_writers_applies_exactly_once(
    database_url: str, admin_conn: Conn
) -> None:
    user_id = create_user(admin_conn, "replay@example.com")
    batch_id = uuid.uuid4()
    events = [{"element": "lighting", "attempts": 4, "successes": 3, "day": DAY}]

    def writer(conn: Conn, barrier: threading.Barrier, index: int) -> Any:
        barrier.wait()
        return _send_batch(conn, user_id, batch_id, events)

    results = _run_writers(database_url, writer)

    assert sorted(result["applied"] for result in results) == [False] * (WRITERS - 1) + [True]
    assert all(result["batch_id"] == str(batch_id) for result in results)
    assert _totals(admin_conn, user_id) == {"lighting": (4, 3, 0.75)}
