"""GoTrue's per-IP rate limits: past a limit of ``[auth.rate_limit]`` a sign-in, sign-up or
refresh is 429 ``over_request_rate_limit`` in GoTrue's JSON and creates nothing; the window
moves with the gateway's clock."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from supabase_auth.errors import AuthApiError

from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)
from tests.support.gotrue import error_code


def _users(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM auth.users").fetchone()
    assert row is not None
    return int(row[0])


def test_anonymous_sign_ins_past_the_hourly_limit_are_429_and_create_no_user(
    gateway: RunningGateway, clock: Clock, admin_conn: psycopg.Connection[Any]
) -> None:
    gateway.config.auth_rate_limits = {"anonymous_users": 2}
    for _ in range(2):
        sync_client(gateway).auth.sign_in_anonymously()
    before = _users(admin_conn)
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.sign_in_anonymously()
    assert (raised.value.status, raised.value.code) == (429, "over_request_rate_limit")
    raw = httpx.post(
        f"{gateway.url}/auth/v1/signup", json={}, headers={"apikey": gateway.keys.anon_key}
    )
    assert (raw.status_code, error_code(raw)) == (429, "over_request_rate_limit")
    assert _users(admin_conn) == before
    clock.now += 3601
    assert sync_client(gateway).auth.sign_in_anonymously().session is not None


def test_refreshes_past_the_limit_are_429_and_leave_the_token_usable(
    gateway: RunningGateway, clock: Clock
) -> None:
    client = sync_client(gateway)
    client.auth.sign_in_anonymously()
    gateway.config.auth_rate_limits = {"token_refresh": 1}
    session = client.auth.refresh_session().session
    assert session is not None
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.refresh_session(session.refresh_token)
    assert raised.value.code == "over_request_rate_limit"
    clock.now += 301
    assert sync_client(gateway).auth.refresh_session(session.refresh_token).session


def test_without_configured_limits_nothing_is_limited(gateway: RunningGateway) -> None:
    assert gateway.config.auth_rate_limits == {}
    for _ in range(40):
        assert sync_client(gateway).auth.sign_in_anonymously().session is not None
