"""clip_webhook: Standard Webhooks provider events, replay-safe by webhook-id, moving jobs
through the SQL state machine."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.functions import (
    OTHER_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    Harness,
    consume_free_clip,
    create_user,
    event_body,
    grant_credits,
    harness,
    signed_headers,
    user_token,
)


@pytest.fixture
def h(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    with harness(database_url, tmp_path / "renders") as value:
        yield value


def _paid_job(h: Harness, conn: psycopg.Connection[Any]) -> tuple[uuid.UUID, str]:
    """A signed-in user with one credit left after enqueuing a paid job; (user, job id)."""
    user = create_user(conn)
    consume_free_clip(conn, user)
    grant_credits(conn, user, 2)
    job_id = str(uuid.uuid4())
    response = h.enqueue_clip(
        user_token(user), {"job_id": job_id, "prompt": "Rain on neon", "user_key": str(user)}
    )
    assert response.status_code == 201
    return user, job_id


def _events(h: Harness, job_id: str) -> int:
    return int(
        h.query("SELECT count(*) FROM private.clip_events WHERE job_id = %s", (job_id,))[0][0]
    )


def _broadcasts(h: Harness, user: uuid.UUID) -> list[dict[str, Any]]:
    rows = h.query(
        "SELECT payload FROM realtime.messages WHERE topic = %s ORDER BY inserted_at, id",
        (f"user:{user}",),
    )
    return [row[0] for row in rows]


def test_processing_then_completed_moves_the_job_and_records_progress(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    processing = h.deliver(event_body(job_id, "processing", progress=40))
    assert processing.status_code == 200
    assert processing.get_json()["outcome"] == "applied"
    assert processing.get_json()["job"]["progress"] == 40
    done = h.deliver(event_body(job_id, "completed", download_url="http://cdn.test/c.mp4"))
    assert done.status_code == 200
    job = h.job(job_id)
    assert (job["status"], job["progress"], job["download_url"]) == (
        "completed",
        100,
        "http://cdn.test/c.mp4",
    )


def test_an_accepted_change_reaches_the_owners_realtime_topic(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user, job_id = _paid_job(h, admin_conn)
    before = len(_broadcasts(h, user))
    h.deliver(event_body(job_id, "processing", progress=5))
    hints = _broadcasts(h, user)[before:]
    assert {"table": "clip_jobs", "id": job_id, "op": "update"}.items() <= hints[-1].items()


def test_a_forged_signature_is_rejected_and_changes_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    response = h.deliver(event_body(job_id, "failed", error="x"), secret=OTHER_WEBHOOK_SECRET)
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"
    assert h.job(job_id)["status"] == "queued"
    assert _events(h, job_id) == 0


def test_a_body_changed_after_signing_is_rejected(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    signed = event_body(job_id, "processing", progress=10)
    headers = signed_headers(signed, at=h.clock(), webhook_id="e1")
    tampered = event_body(job_id, "failed", error="boom")
    response = h.webhook.post("/", data=tampered, headers=headers)
    assert response.status_code == 401
    assert h.job(job_id)["status"] == "queued"


def test_a_missing_signature_is_rejected(h: Harness, admin_conn: psycopg.Connection[Any]) -> None:
    _, job_id = _paid_job(h, admin_conn)
    response = h.webhook.post(
        "/", data=event_body(job_id, "processing"), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert _events(h, job_id) == 0


def test_a_signature_older_than_five_minutes_is_rejected(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    body = event_body(job_id, "processing", progress=10)
    stale = h.deliver(body, at=h.clock() - 301)
    assert stale.status_code == 401
    assert h.job(job_id)["status"] == "queued"
    assert h.deliver(body, at=h.clock() - 299).status_code == 200


def test_a_signature_from_the_future_beyond_the_tolerance_is_rejected(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    response = h.deliver(event_body(job_id, "processing"), at=h.clock() + 301)
    assert response.status_code == 401


def test_a_replayed_event_is_a_duplicate_no_op(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    body = event_body(job_id, "processing", progress=30)
    assert h.deliver(body, webhook_id="evt-1").get_json()["outcome"] == "applied"
    version = h.job(job_id)["version"]
    replay = h.deliver(body, webhook_id="evt-1")
    assert replay.status_code == 200
    assert replay.get_json()["outcome"] == "duplicate"
    assert h.job(job_id)["version"] == version


def test_an_event_for_an_unknown_job_is_404(h: Harness) -> None:
    response = h.deliver(event_body(uuid.uuid4(), "processing", progress=1))
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert h.query("SELECT count(*) FROM private.clip_events") == [(0,)]


def test_completed_before_processing_leaves_the_job_completed(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    done = h.deliver(event_body(job_id, "completed", download_url="http://cdn.test/a.mp4"))
    assert done.get_json()["outcome"] == "applied"
    late = h.deliver(event_body(job_id, "processing", progress=50))
    assert late.status_code == 200
    assert late.get_json()["outcome"] == "stale"
    job = h.job(job_id)
    assert (job["status"], job["progress"]) == ("completed", 100)


def test_duplicated_deliveries_in_any_order_leave_the_right_final_state(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    processing = ("p", event_body(job_id, "processing", progress=20))
    completed = ("c", event_body(job_id, "completed", download_url="http://cdn.test/b.mp4"))
    outcomes = [
        h.deliver(body, webhook_id=webhook_id).get_json()["outcome"]
        for webhook_id, body in (completed, processing, completed, processing)
    ]
    assert outcomes == ["applied", "stale", "duplicate", "duplicate"]
    assert h.job(job_id)["status"] == "completed"


def test_a_failed_event_refunds_exactly_once(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user, job_id = _paid_job(h, admin_conn)
    assert h.balance(user) == (1, True)
    failed = event_body(job_id, "failed", error="GPU on fire")
    first = h.deliver(failed, webhook_id="f1")
    assert first.get_json()["outcome"] == "applied"
    again = h.deliver(failed, webhook_id="f2")
    assert again.get_json()["outcome"] == "stale"
    h.deliver(failed, webhook_id="f1")
    job = h.job(job_id)
    assert (job["status"], job["error_message"]) == ("failed", "GPU on fire")
    assert h.balance(user) == (2, True)
    assert h.refunds(job_id) == 1


def test_a_completed_event_without_a_download_url_is_rejected(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    response = h.deliver(event_body(job_id, "completed"))
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_input"
    assert h.job(job_id)["status"] == "queued"


@pytest.mark.parametrize(
    "payload",
    [
        {"job_id": "not-a-uuid", "status": "processing"},
        {"job_id": str(uuid.UUID(int=1)), "status": "exploded"},
        {"job_id": str(uuid.UUID(int=1)), "status": "processing", "progress": 101},
        {"job_id": str(uuid.UUID(int=1)), "status": "processing", "progress": "x"},
        {"job_id": str(uuid.UUID(int=1)), "status": "processing", "extra": 1},
        {"job_id": str(uuid.UUID(int=1)), "status": "processing", "event_id": "e"},
        {"job_id": str(uuid.UUID(int=1))},
    ],
)
def test_a_signed_but_invalid_event_is_422(h: Harness, payload: dict[str, Any]) -> None:
    response = h.deliver(json.dumps(payload).encode())
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_input"
    assert h.query("SELECT count(*) FROM private.clip_events") == [(0,)]


def test_a_signed_body_that_is_not_json_is_400(h: Harness) -> None:
    response = h.deliver(b"{not json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_input"


def test_an_oversized_webhook_body_is_413(h: Harness) -> None:
    body = event_body(uuid.uuid4(), "failed", error="x" * 70_000)
    response = h.deliver(body)
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_an_event_naming_another_provider_job_is_refused_and_changes_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    stored = h.job(job_id)["provider_job_id"]
    assert stored
    accepted = h.deliver(event_body(job_id, "processing", provider_job_id=stored))
    assert accepted.status_code == 200
    before = h.job(job_id)
    response = h.deliver(event_body(job_id, "failed", error="x", provider_job_id="other-job"))
    assert response.status_code == 409
    assert response.get_json()["code"] == "id_conflict"
    assert h.job(job_id) == before
    assert _events(h, job_id) == 1
    assert h.refunds(job_id) == 0


def test_a_replayed_webhook_id_changes_nothing_whatever_its_body(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    h.deliver(event_body(job_id, "processing", progress=10), webhook_id="msg_once")
    before = h.job(job_id)
    replay = h.deliver(event_body(job_id, "failed", error="late"), webhook_id="msg_once")
    assert replay.status_code == 200
    assert replay.get_json()["outcome"] == "duplicate"
    assert h.job(job_id) == before
    assert h.refunds(job_id) == 0


def test_a_webhook_id_longer_than_200_characters_is_400(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    response = h.deliver(event_body(job_id, "processing"), webhook_id="m" * 201)
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_input"
    assert _events(h, job_id) == 0


def test_during_a_secret_rotation_both_configured_secrets_are_accepted(
    database_url: str, tmp_path: Path, admin_conn: psycopg.Connection[Any]
) -> None:
    rotating = f"{WEBHOOK_SECRET} {OTHER_WEBHOOK_SECRET}"
    with harness(database_url, tmp_path / "r", clip_webhook_secret=rotating) as rotated:
        _, job_id = _paid_job(rotated, admin_conn)
        old = rotated.deliver(event_body(job_id, "processing", progress=5), secret=WEBHOOK_SECRET)
        new = rotated.deliver(
            event_body(job_id, "processing", progress=9), secret=OTHER_WEBHOOK_SECRET
        )
        assert (old.status_code, new.status_code) == (200, 200)
        assert rotated.job(job_id)["progress"] == 9


def test_one_valid_signature_among_several_is_enough(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    _, job_id = _paid_job(h, admin_conn)
    body = event_body(job_id, "processing", progress=7)
    headers = signed_headers(body, at=h.clock(), secret=f"{OTHER_WEBHOOK_SECRET} {WEBHOOK_SECRET}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert h.webhook.post("/", data=body, headers=headers).status_code == 200


def test_an_event_signed_with_the_standardwebhooks_package_as_documented_is_applied(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    import datetime as dt

    from standardwebhooks import Webhook

    _, job_id = _paid_job(h, admin_conn)
    body = json.dumps({"job_id": job_id, "status": "processing", "progress": 55})
    now = dt.datetime.fromtimestamp(h.clock(), tz=dt.UTC)
    headers = {
        "webhook-id": "svc-42:processing",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign("svc-42:processing", now, body),
        "Content-Type": "application/json",
    }
    response = h.webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "applied"
    assert h.job(job_id)["progress"] == 55
