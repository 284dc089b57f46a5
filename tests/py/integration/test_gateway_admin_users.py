"""The gateway's GoTrue admin API: deleting a user with the service key, as supabase-py calls it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
from supabase_auth.errors import AuthApiError

from directorstudio.server.limits import MAX_BODY_BYTES
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)
from tests.support.gotrue import error_code

Conn = psycopg.Connection[Any]


def _user_with_a_project(gateway: RunningGateway) -> str:
    client = sync_client(gateway)
    reply = client.auth.sign_up({"email": f"{uuid.uuid4().hex}@example.com", "password": "pw-1234"})
    assert reply.user is not None
    client.rpc(
        "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": "Doomed"}
    ).execute()
    return str(reply.user.id)


def _rows_of(admin_conn: Conn, user_id: str) -> tuple[int, int, int]:
    row = admin_conn.execute(
        "SELECT (SELECT count(*) FROM auth.users WHERE id = %(u)s),"
        " (SELECT count(*) FROM public.app_users WHERE id = %(u)s),"
        " (SELECT count(*) FROM public.project_overview WHERE user_id = %(u)s)",
        {"u": user_id},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_the_service_key_deletes_a_user_and_every_row_of_theirs_goes_with_it(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    user_id = _user_with_a_project(gateway)
    assert _rows_of(admin_conn, user_id) == (1, 1, 1)
    admin = sync_client(gateway, gateway.keys.service_role_key)
    admin.auth.admin.delete_user(user_id)
    assert _rows_of(admin_conn, user_id) == (0, 0, 0)


def test_deleting_a_user_that_does_not_exist_is_user_not_found(gateway: RunningGateway) -> None:
    admin = sync_client(gateway, gateway.keys.service_role_key)
    with pytest.raises(AuthApiError) as raised:
        admin.auth.admin.delete_user(str(uuid.uuid4()))
    assert (raised.value.status, raised.value.code) == (404, "user_not_found")


def test_a_soft_delete_keeps_the_row_but_the_user_is_gone(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    user_id = _user_with_a_project(gateway)
    admin = sync_client(gateway, gateway.keys.service_role_key)
    admin.auth.admin.delete_user(user_id, should_soft_delete=True)
    deleted = admin_conn.execute(
        "SELECT deleted_at IS NOT NULL, email FROM auth.users WHERE id = %s", (user_id,)
    ).fetchone()
    assert deleted == (True, None)
    with pytest.raises(AuthApiError):
        admin.auth.admin.delete_user(user_id, should_soft_delete=True)


def test_only_the_service_key_may_delete_users(gateway: RunningGateway, admin_conn: Conn) -> None:
    user_id = _user_with_a_project(gateway)
    client = sync_client(gateway)
    session = client.auth.sign_in_anonymously().session
    assert session is not None
    url = f"{gateway.url}/auth/v1/admin/users/{user_id}"
    key = {"apikey": gateway.keys.anon_key}
    as_user = httpx.delete(url, headers=key | {"Authorization": f"Bearer {session.access_token}"})
    as_anon = httpx.delete(url, headers=key | {"Authorization": f"Bearer {gateway.keys.anon_key}"})
    unsigned = httpx.delete(url, headers=key)
    assert [r.status_code for r in (as_user, as_anon, unsigned)] == [403, 403, 401]
    assert error_code(as_user) == "not_admin"
    malformed = httpx.delete(
        f"{gateway.url}/auth/v1/admin/users/not-a-uuid",
        headers={"apikey": gateway.keys.service_role_key,
                 "Authorization": f"Bearer {gateway.keys.service_role_key}"},
    )  # fmt: skip
    assert (malformed.status_code, error_code(malformed)) == (400, "validation_failed")
    assert _rows_of(admin_conn, user_id) == (1, 1, 1)


def test_an_admin_delete_with_a_body_beyond_the_input_limits_is_refused_and_deletes_nothing(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    user_id = _user_with_a_project(gateway)
    service = {"apikey": gateway.keys.service_role_key,
               "Authorization": f"Bearer {gateway.keys.service_role_key}"}  # fmt: skip
    url = f"{gateway.url}/auth/v1/admin/users/{user_id}"
    padding = "x" * (MAX_BODY_BYTES + 1)
    too_large = httpx.request(
        "DELETE", url, headers=service, json={"should_soft_delete": False, "pad": padding}
    )
    too_deep = httpx.request("DELETE", url, headers=service, content=b"[" * 200 + b"]" * 200)
    assert (too_large.status_code, error_code(too_large)) == (413, "payload_too_large")
    assert (too_deep.status_code, error_code(too_deep)) == (400, "bad_json")
    assert _rows_of(admin_conn, user_id) == (1, 1, 1)
