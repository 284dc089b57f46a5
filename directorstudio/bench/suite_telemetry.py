"""Telemetry batches: ``batch_upsert_telemetry`` as the API runs it (role and claims in one
transaction per batch, the batch id recorded for exactly-once) next to a raw multi-row
``INSERT ... ON CONFLICT DO UPDATE`` of the same increments into the same table by its owner.

Each batch holds 500 events over 100 elements (the client's buffer flushes at most 500), half of
them elements already stored, so both paths insert and update. Exactness: the stored attempts
equal the attempts sent (else :class:`ExactnessError`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Json

from directorstudio.bench.database import durable_database
from directorstudio.bench.model import BenchOptions, ExactnessError, Row, at_least, repeat
from directorstudio.db.context import claims_for_user, request_transaction

NAME = "telemetry"
EVENTS_PER_BATCH = 500
ELEMENTS = 100

RAW_UPSERT = """
INSERT INTO public.continuity_telemetry AS t
    (user_id, element, day, attempts, successes, rate, timestamp)
SELECT %(user)s, a.element, a.day, a.attempts, a.successes,
       CASE WHEN a.attempts = 0 THEN 0 ELSE a.successes::double precision / a.attempts END, now()
FROM (
    SELECT e.element, e.day::date AS day, sum(e.attempts) AS attempts,
           sum(e.successes) AS successes
    FROM unnest(%(elements)s::text[], %(days)s::text[], %(attempts)s::bigint[],
                %(successes)s::bigint[]) AS e (element, day, attempts, successes)
    GROUP BY 1, 2
) AS a
ORDER BY a.element, a.day
ON CONFLICT (user_id, element, day) DO UPDATE
SET attempts = t.attempts + excluded.attempts,
    successes = t.successes + excluded.successes,
    rate = CASE WHEN t.attempts + excluded.attempts = 0 THEN 0
                ELSE (t.successes + excluded.successes)::double precision
                     / (t.attempts + excluded.attempts) END,
    timestamp = now()
"""


def batch(round_number: int) -> list[dict[str, Any]]:
    """One batch: 500 events over 100 elements, the second half of them new in each round."""
    return [
        {
            "element": f"element-{(k % ELEMENTS) + (round_number * ELEMENTS // 2)}",
            "attempts": 2,
            "successes": 1,
            "day": "2026-12-01",
        }
        for k in range(EVENTS_PER_BATCH)
    ]


def new_user(conn: psycopg.Connection[Any]) -> uuid.UUID:
    """A fresh account (its telemetry starts empty)."""
    user = uuid.uuid4()
    conn.execute(
        "INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user, f"bench-{user}@example.com")
    )
    return user


def stored_attempts(conn: psycopg.Connection[Any], user: uuid.UUID) -> int:
    """The attempts stored for a user."""
    row = conn.execute(
        "SELECT coalesce(sum(attempts), 0) FROM public.continuity_telemetry WHERE user_id = %s",
        (user,),
    ).fetchone()
    return int(row[0]) if row else 0


def rpc_rate(url: str, admin: psycopg.Connection[Any], batches: int) -> float:
    """Events per second through batch_upsert_telemetry, one transaction per batch."""
    user = new_user(admin)
    payloads = [Json(batch(n)) for n in range(batches)]
    with psycopg.connect(url) as conn:
        claims = claims_for_user(str(user))
        started = time.perf_counter()
        for payload in payloads:
            with request_transaction(conn, "authenticated", claims):
                conn.execute(
                    "SELECT public.batch_upsert_telemetry(%s, %s::jsonb)", (uuid.uuid4(), payload)
                )
        elapsed = time.perf_counter() - started
    _check(admin, user, batches)
    return batches * EVENTS_PER_BATCH / elapsed


def raw_rate(url: str, admin: psycopg.Connection[Any], batches: int) -> float:
    """Events per second of the same increments as a raw INSERT ... ON CONFLICT."""
    user = new_user(admin)
    params = []
    for n in range(batches):
        events = batch(n)
        params.append(
            {
                "user": user,
                "elements": [e["element"] for e in events],
                "days": [e["day"] for e in events],
                "attempts": [e["attempts"] for e in events],
                "successes": [e["successes"] for e in events],
            }
        )
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for values in params:
            with conn.transaction():
                conn.execute(RAW_UPSERT, values)
        elapsed = time.perf_counter() - started
    _check(admin, user, batches)
    return batches * EVENTS_PER_BATCH / elapsed


def _check(admin: psycopg.Connection[Any], user: uuid.UUID, batches: int) -> None:
    expected = batches * EVENTS_PER_BATCH * 2
    stored = stored_attempts(admin, user)
    if stored != expected:
        raise ExactnessError(f"{expected} attempts sent, {stored} stored")


class TelemetrySuite:
    """batch_upsert_telemetry next to a raw INSERT ... ON CONFLICT of the same rows."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        batches = 10 if options.quick else 100
        with durable_database() as url, psycopg.connect(url, autocommit=True) as admin:
            rpc_rate(url, admin, 2)  # warm-up: plans and caches
            rpc = repeat(lambda: rpc_rate(url, admin, batches), options.repetitions)
            raw = repeat(lambda: raw_rate(url, admin, batches), options.repetitions)
        return [
            at_least(
                NAME,
                f"telemetry batches of {EVENTS_PER_BATCH} events",
                "events/s",
                rpc,
                None,
                baseline="raw INSERT ... ON CONFLICT",
                baseline_values=raw,
                min_ratio=0.5,
            )
        ]


SUITE = TelemetrySuite()
