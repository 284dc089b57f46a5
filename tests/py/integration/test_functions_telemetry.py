"""telemetry_batch and telemetry_rollup over the functions' test clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask.testing
import psycopg
import pytest

from tests.support.functions import (
    SCHEDULER_SECRET,
    Harness,
    create_user,
    harness,
    make_client,
    user_token,
)

DAY = "2026-11-20"
SCHEDULER = {"X-DirectorStudio-Scheduler-Secret": SCHEDULER_SECRET}


@pytest.fixture
def h(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    with harness(database_url, tmp_path / "renders") as value:
        value.extra["rollup"] = make_client("telemetry_batch", target="telemetry_rollup")
        yield value


def _rollup(h: Harness) -> flask.testing.FlaskClient:
    client: flask.testing.FlaskClient = h.extra["rollup"]
    return client


def _send(
    h: Harness, user: uuid.UUID, events: list[dict[str, Any]], batch_id: str | None = None
) -> Any:
    return h.telemetry.post(
        "/",
        json={"batch_id": batch_id or str(uuid.uuid4()), "events": events},
        headers={"Authorization": f"Bearer {user_token(user)}"},
    )


def _counts(h: Harness, user: uuid.UUID) -> list[tuple[Any, ...]]:
    return h.query(
        "SELECT element, day::text, attempts, successes, rate FROM public.continuity_telemetry"
        " WHERE user_id = %s ORDER BY element, day",
        (str(user),),
    )


def test_a_batch_increments_the_users_counts(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    first = _send(
        h,
        user,
        [
            {"element": "library_load", "attempts": 2, "successes": 1, "day": DAY},
            {"element": "clip_job_submitted", "attempts": 1, "successes": 1, "day": DAY},
        ],
    )
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["applied"] is True
    assert first.get_json()["elements"] == 2
    second = _send(
        h, user, [{"element": "library_load", "attempts": 2, "successes": 2, "day": DAY}]
    )
    assert second.get_json()["applied"] is True
    assert _counts(h, user) == [
        ("clip_job_submitted", DAY, 1, 1, 1.0),
        ("library_load", DAY, 4, 3, 0.75),
    ]


def test_a_replayed_batch_adds_nothing(h: Harness, admin_conn: psycopg.Connection[Any]) -> None:
    user = create_user(admin_conn)
    batch_id = str(uuid.uuid4())
    events = [{"element": "sync_latency", "attempts": 3, "successes": 2, "day": DAY}]
    assert _send(h, user, events, batch_id).get_json()["applied"] is True
    replay = _send(h, user, events, batch_id)
    assert replay.status_code == 200
    assert replay.get_json()["applied"] is False
    assert _counts(h, user) == [("sync_latency", DAY, 3, 2, 2 / 3)]


@pytest.mark.parametrize(
    "events",
    [
        [],
        [{"element": "x", "attempts": 1, "successes": 1}] * 501,
        [{"element": "x", "attempts": "two", "successes": 1}],
        [{"element": "x", "attempts": 1, "successes": 2}],
        [{"element": "x", "attempts": -1, "successes": 0}],
        [{"element": "", "attempts": 1, "successes": 0}],
        [{"element": "x", "attempts": 1, "successes": 0, "day": "yesterday"}],
        [{"element": "x", "attempts": 1, "successes": 0, "colour": "red"}],
    ],
)
def test_an_invalid_batch_is_422_and_adds_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any], events: list[dict[str, Any]]
) -> None:
    user = create_user(admin_conn)
    response = _send(h, user, events)
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_input"
    assert _counts(h, user) == []


def test_a_batch_over_256_kib_is_413(h: Harness, admin_conn: psycopg.Connection[Any]) -> None:
    user = create_user(admin_conn)
    events = [{"element": "e" * 100, "attempts": 1, "successes": 1, "pad": "p" * 600}] * 450
    response = h.telemetry.post(
        "/",
        data=json.dumps({"batch_id": str(uuid.uuid4()), "events": events}),
        headers={"Authorization": f"Bearer {user_token(user)}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"
    assert _counts(h, user) == []


def test_a_batch_without_a_valid_token_is_401(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    response = h.telemetry.post(
        "/",
        json={
            "batch_id": str(uuid.uuid4()),
            "events": [{"element": "x", "attempts": 1, "successes": 1}],
        },
        headers={"Authorization": f"Bearer {user_token(user, expires_in=-5)}"},
    )
    assert response.status_code == 401
    assert _counts(h, user) == []


def _rollup_tables(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "performance": h.query(
            "SELECT user_id, element, attempts, successes, rate, performance_category"
            " FROM public.continuity_telemetry_performance ORDER BY user_id, element"
        ),
        "statistics": h.query(
            "SELECT user_id, credits, total_scenes, total_screenplays, completed_videos"
            " FROM public.user_statistics ORDER BY user_id"
        ),
        "daily": h.query(
            "SELECT user_id, day, total_scenes, scenes_passed, scenes_failed"
            " FROM public.continuity_daily_analytics ORDER BY user_id, day"
        ),
    }


def test_the_rollup_fills_the_performance_table_and_is_idempotent(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    _send(
        h,
        user,
        [
            {"element": "library_load", "attempts": 10, "successes": 10, "day": DAY},
            {"element": "clip_job_submitted", "attempts": 4, "successes": 1, "day": DAY},
        ],
    )
    admin_conn.execute(
        "INSERT INTO public.continuity_logs (scene_id, confidence, issues, passed, timestamp,"
        " user_id) VALUES (1, 0.9, '[]', true, %s, %s), (2, 0.4, '[]', false, %s, %s)",
        (f"{DAY}T10:00:00Z", user, f"{DAY}T11:00:00Z", user),
    )
    first = _rollup(h).post("/", json={"day": DAY}, headers=SCHEDULER)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["day"] == DAY
    tables = _rollup_tables(h)
    assert [(row[1], row[5]) for row in tables["performance"]] == [
        ("clip_job_submitted", "poor"),
        ("library_load", "excellent"),
    ]
    assert [row[2:] for row in tables["daily"]] == [(2, 1, 1)]
    second = _rollup(h).post("/", json={"day": DAY}, headers=SCHEDULER)
    assert second.status_code == 200
    assert _rollup_tables(h) == tables


def test_the_rollup_without_a_day_runs_the_due_days(h: Harness) -> None:
    for extra in ({}, {"Content-Type": "application/json"}):
        response = _rollup(h).post("/", headers={**SCHEDULER, **extra})
        assert response.status_code == 200
        days = [result["day"] for result in response.get_json()]
        assert len(days) == 2
        assert days[0] < days[1]


def test_the_rollup_refuses_users_and_unknown_callers(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    for headers in (
        {},
        {"Authorization": f"Bearer {user_token(user)}"},
        {"X-DirectorStudio-Scheduler-Secret": "x"},
    ):
        response = _rollup(h).post("/", json={"day": DAY}, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["code"] == "not_authenticated"


def test_the_rollup_rejects_a_malformed_day(h: Harness) -> None:
    response = _rollup(h).post("/", json={"day": "someday"}, headers=SCHEDULER)
    assert response.status_code == 422


def test_the_rollup_job_runs_the_due_days_with_settings_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import directorstudio.server

    monkeypatch.setenv("DATABASE_URL", database_url)
    result = directorstudio.server.run_due_rollups()
    assert [set(day) >= {"day", "user_statistics"} for day in result] == [True, True]
