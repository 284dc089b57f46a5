"""Rollups and telemetry called the way PostgREST calls them, one transaction per request."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user

Conn = psycopg.Connection[Any]
DAY = "2026-11-20"
ROLLUP_TABLES = (
    "continuity_daily_analytics",
    "continuity_recent_validations",
    "continuity_telemetry_performance",
    "user_statistics",
    "project_overview",
)


def _as_user(conn: Conn, user_id: uuid.UUID, query: str, params: tuple[Any, ...]) -> Any:
    with request_transaction(conn, "authenticated", claims_for_user(str(user_id))):
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _rollup(conn: Conn, day: str) -> dict[str, Any]:
    with request_transaction(conn, "service_role"):
        row = conn.execute("SELECT public.run_daily_rollups(%s::date)", (day,)).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def _snapshot(admin_conn: Conn) -> dict[str, list[str]]:
    """Every rollup row with its physical position: a rewritten row moves."""
    return {
        table: [
            str(r[0])
            for r in admin_conn.execute(
                sql.SQL("SELECT ctid::text || t::text FROM {} AS t ORDER BY 1").format(
                    sql.Identifier("public", table)
                )
            ).fetchall()
        ]
        for table in ROLLUP_TABLES
    }


@pytest.fixture
def user_with_activity(admin_conn: Conn, database_url: str) -> uuid.UUID:
    """A user with a project whose stored totals are wrong, a validation log and telemetry."""
    user_id = create_user(admin_conn, "active@example.com")
    project = uuid.uuid4()
    admin_conn.execute(
        "INSERT INTO public.project_overview (project_id, user_id, title) VALUES (%s, %s, 'P')",
        (project, user_id),
    )
    admin_conn.execute(
        "INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, "
        "duration) VALUES (%s, %s, %s, 0, 'One', 2.5)",
        (uuid.uuid4(), user_id, project),
    )
    with psycopg.connect(database_url, autocommit=True) as raw:
        raw.execute("SET session_replication_role = replica")
        raw.execute(
            "UPDATE public.project_overview SET scene_count = 7 WHERE project_id = %s", (project,)
        )
    with psycopg.connect(database_url, autocommit=True) as conn:
        _as_user(
            conn,
            user_id,
            "SELECT id FROM public.insert_continuity_log(%s, 1, 0.7, '[]', true, %s)",
            (uuid.uuid4(), f"{DAY} 12:00+00"),
        )
        events = [{"element": "lighting", "attempts": 4, "successes": 3, "day": DAY}]
        _as_user(
            conn,
            user_id,
            "SELECT public.batch_upsert_telemetry(%s, %s)",
            (uuid.uuid4(), Jsonb(events)),
        )
    return user_id


def test_a_rollup_repeated_in_a_later_transaction_rewrites_no_row(
    admin_conn: Conn, database_url: str, user_with_activity: uuid.UUID
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        first = _rollup(conn, DAY)
        before = _snapshot(admin_conn)
        second = _rollup(conn, DAY)

    assert first == {
        "day": DAY,
        "continuity_daily_analytics": 1,
        "continuity_recent_validations": 1,
        "continuity_telemetry_performance": 1,
        "user_statistics": 1,
        "project_overview": 1,
        "release_channel_daily": 0,
    }
    assert second == {"day": DAY, "release_channel_daily": 0} | {t: 0 for t in ROLLUP_TABLES}
    assert _snapshot(admin_conn) == before
    stats = admin_conn.execute(
        "SELECT s.last_activity = (SELECT max(last_updated) FROM public.project_overview) "
        "FROM public.user_statistics AS s WHERE s.user_id = %s",
        (user_with_activity,),
    ).fetchone()
    assert stats == (True,)


def test_a_signed_in_user_cannot_run_the_rollups(admin_conn: Conn, database_url: str) -> None:
    user_id = create_user(admin_conn, "curious@example.com")
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        pytest.raises(DirectorStudioError) as caught,
    ):
        _as_user(conn, user_id, "SELECT public.run_due_rollups()", ())
    assert caught.value.code is ErrorCode.FORBIDDEN


def test_an_invalid_event_is_reported_as_invalid_input_naming_the_event(
    admin_conn: Conn, database_url: str
) -> None:
    user_id = create_user(admin_conn, "sloppy@example.com")
    events = [
        {"element": "lighting", "attempts": 1, "successes": 1},
        {"element": "lighting", "attempts": 1, "successes": 3},
    ]
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        pytest.raises(DirectorStudioError) as caught,
    ):
        _as_user(
            conn,
            user_id,
            "SELECT public.batch_upsert_telemetry(%s, %s)",
            (uuid.uuid4(), Jsonb(events)),
        )
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert caught.value.detail == {"event": 1}
    assert admin_conn.execute("SELECT count(*) FROM public.continuity_telemetry").fetchone() == (0,)


def test_another_id_for_a_day_with_analytics_is_an_id_conflict(
    admin_conn: Conn, database_url: str
) -> None:
    user_id = create_user(admin_conn, "daily@example.com")
    query = "SELECT id FROM public.append_daily_analytics(%s, %s, 2, 0.5, 1, 1, 0.25, 0.75, 0.25)"
    first_id = uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert _as_user(conn, user_id, query, (first_id, f"{DAY} 08:00+00")) == first_id
        assert _as_user(conn, user_id, query, (first_id, f"{DAY} 08:00+00")) == first_id
        with pytest.raises(DirectorStudioError) as caught:
            _as_user(conn, user_id, query, (uuid.uuid4(), f"{DAY} 21:00+00"))
    assert caught.value.code is ErrorCode.ID_CONFLICT
    assert caught.value.detail == {"day": DAY, "id": str(first_id)}
