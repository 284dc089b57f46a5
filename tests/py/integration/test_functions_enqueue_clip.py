"""enqueue_clip over functions-framework's test client, against a real database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.functions import (
    Harness,
    consume_free_clip,
    create_user,
    grant_credits,
    harness,
    user_token,
)


@pytest.fixture
def h(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    with harness(database_url, tmp_path / "renders") as value:
        yield value


def _body(user_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "job_id": str(uuid.uuid4()),
        "prompt": "A lighthouse at dawn",
        "user_key": str(user_id),
    }
    body.update(fields)
    return body


def test_a_new_clip_is_created_charged_and_dispatched_once(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    body = _body(user)
    response = h.enqueue_clip(user_token(user), body)
    assert response.status_code == 201, response.get_json()
    job = response.get_json()
    assert job["id"] == body["job_id"]
    assert job["status"] == "queued"
    assert job["charge"] == "free"
    assert job["provider_job_id"] == f"local-{body['job_id']}"
    assert job["attempts"] == 1
    assert h.local.pending() == 1
    assert h.balance(user) == (0, True)


def test_a_replayed_enqueue_returns_the_same_job_and_charges_and_dispatches_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    consume_free_clip(admin_conn, user)
    grant_credits(admin_conn, user, 2)
    body = _body(user)
    first = h.enqueue_clip(user_token(user), body)
    second = h.enqueue_clip(user_token(user), body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json() == first.get_json()
    assert h.balance(user) == (1, True)
    assert h.local.pending() == 1
    assert h.job(body["job_id"])["attempts"] == 1


def test_insufficient_credits_is_402_and_creates_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    consume_free_clip(admin_conn, user)
    response = h.enqueue_clip(user_token(user), _body(user))
    assert response.status_code == 402
    assert response.get_json()["code"] == "insufficient_credits"
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]
    assert h.query("SELECT count(*) FROM public.credit_transactions WHERE kind <> 'grant'") == [
        (0,)
    ]
    assert h.local.pending() == 0


def test_reusing_a_job_id_for_another_prompt_is_409(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    grant_credits(admin_conn, user, 3)
    body = _body(user)
    assert h.enqueue_clip(user_token(user), body).status_code == 201
    response = h.enqueue_clip(user_token(user), {**body, "prompt": "Something else"})
    assert response.status_code == 409
    assert response.get_json()["code"] == "id_conflict"
    assert h.balance(user) == (3, True)


def test_another_users_account_is_not_found(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    owner = create_user(admin_conn)
    intruder = create_user(admin_conn)
    response = h.enqueue_clip(user_token(intruder), _body(owner))
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert h.balance(owner) == (0, False)
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]


def test_enqueue_without_a_token_is_401_and_changes_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    response = h.enqueue_clip(None, _body(user))
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]


def test_a_get_request_is_405(h: Harness) -> None:
    response = h.enqueue.get("/")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
