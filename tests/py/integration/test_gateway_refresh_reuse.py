"""Refresh-token rotation as GoTrue does it: the reuse interval, the parent of the active token,
revocation of the whole session on any other reuse, and logout. Time is the gateway's fake
clock: nothing sleeps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg

from directorstudio.stack import tokens
from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
)
from tests.support.gotrue import VERSIONED, error_code


def _headers(gateway: RunningGateway, token: str | None = None) -> dict[str, str]:
    headers = {"apikey": gateway.keys.anon_key} | VERSIONED
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _sign_in(gateway: RunningGateway) -> dict[str, Any]:
    reply = httpx.post(f"{gateway.url}/auth/v1/signup", json={}, headers=_headers(gateway))
    assert reply.status_code == 200, reply.text
    session: dict[str, Any] = reply.json()
    return session


def _refresh(gateway: RunningGateway, token: str, *, versioned: bool = True) -> httpx.Response:
    headers = _headers(gateway) if versioned else {"apikey": gateway.keys.anon_key}
    return httpx.post(
        f"{gateway.url}/auth/v1/token?grant_type=refresh_token",
        json={"refresh_token": token},
        headers=headers,
    )


def _refreshed(gateway: RunningGateway, token: str) -> str:
    reply = _refresh(gateway, token)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["refresh_token"])


def _revoked(conn: psycopg.Connection[Any], session_id: str) -> list[bool]:
    rows = conn.execute(
        "SELECT revoked FROM auth.refresh_tokens WHERE session_id = %s ORDER BY id", (session_id,)
    ).fetchall()
    return [bool(row[0]) for row in rows]


def _session_of(gateway: RunningGateway, session: dict[str, Any]) -> str:
    return str(tokens.decode(session["access_token"], gateway.keys)["session_id"])


def test_a_token_used_again_within_the_interval_returns_the_same_child(
    gateway: RunningGateway, clock: Clock
) -> None:
    first = _sign_in(gateway)["refresh_token"]
    child = _refreshed(gateway, first)
    clock.now += 5
    again = _refresh(gateway, first)
    assert again.status_code == 200
    assert again.json()["refresh_token"] == child
    user = httpx.get(
        f"{gateway.url}/auth/v1/user", headers=_headers(gateway, again.json()["access_token"])
    )
    assert user.status_code == 200
    assert _refreshed(gateway, child) not in (first, child)


def test_the_parent_of_the_active_token_gets_it_again_even_after_the_interval(
    gateway: RunningGateway, clock: Clock
) -> None:
    first = _sign_in(gateway)["refresh_token"]
    child = _refreshed(gateway, first)
    clock.now += 60
    again = _refresh(gateway, first)
    assert again.status_code == 200
    assert again.json()["refresh_token"] == child


def test_an_older_token_within_the_interval_is_rotated_again(
    gateway: RunningGateway, clock: Clock, admin_conn: psycopg.Connection[Any]
) -> None:
    session = _sign_in(gateway)
    first = session["refresh_token"]
    child = _refreshed(gateway, first)
    _refreshed(gateway, child)
    clock.now += 9
    sibling = _refreshed(gateway, first)
    assert sibling not in (first, child)
    assert _revoked(admin_conn, _session_of(gateway, session)) == [True, True, False, False]


def test_an_older_token_after_the_interval_revokes_every_token_of_the_session(
    gateway: RunningGateway, clock: Clock, admin_conn: psycopg.Connection[Any]
) -> None:
    session = _sign_in(gateway)
    first = session["refresh_token"]
    child = _refreshed(gateway, first)
    active = _refreshed(gateway, child)
    clock.now += 11
    reused = _refresh(gateway, first)
    assert reused.status_code == 400
    assert reused.json() == {
        "code": "refresh_token_already_used",
        "message": "Invalid Refresh Token: Already Used",
    }
    assert _revoked(admin_conn, _session_of(gateway, session)) == [True, True, True]
    # The family stays revoked: neither the active token nor its parent refresh any more,
    # even at once.
    for token in (active, child):
        refused = _refresh(gateway, token, versioned=False)
        assert refused.status_code == 400
        assert refused.json() == {
            "code": 400,
            "error_code": "refresh_token_already_used",
            "msg": "Invalid Refresh Token: Already Used",
        }


def test_the_reuse_interval_is_configurable(gateway: RunningGateway, clock: Clock) -> None:
    gateway.config.refresh_token_reuse_interval = 0
    first = _sign_in(gateway)["refresh_token"]
    child = _refreshed(gateway, first)
    _refreshed(gateway, child)
    clock.now += 0.5
    assert error_code(_refresh(gateway, first)) == "refresh_token_already_used"


def test_concurrent_refreshes_of_one_token_all_get_the_same_child(gateway: RunningGateway) -> None:
    first = _sign_in(gateway)["refresh_token"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: _refresh(gateway, first), range(4)))
    assert [reply.status_code for reply in replies] == [200] * 4
    assert len({reply.json()["refresh_token"] for reply in replies}) == 1


def _logout(gateway: RunningGateway, access_token: str, scope: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/auth/v1/logout?scope={scope}", headers=_headers(gateway, access_token)
    )


def _second_session(gateway: RunningGateway, email: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"email": email, "password": "secret-123"}
    one = httpx.post(f"{gateway.url}/auth/v1/signup", json=body, headers=_headers(gateway))
    two = httpx.post(
        f"{gateway.url}/auth/v1/token?grant_type=password", json=body, headers=_headers(gateway)
    )
    assert (one.status_code, two.status_code) == (200, 200)
    return one.json(), two.json()


def test_a_local_logout_revokes_this_session_only(gateway: RunningGateway) -> None:
    this, other = _second_session(gateway, "ada@example.com")
    assert _logout(gateway, this["access_token"], "local").status_code == 204
    assert error_code(_refresh(gateway, this["refresh_token"])) == "refresh_token_not_found"
    assert _refresh(gateway, other["refresh_token"]).status_code == 200


def test_a_logout_of_others_keeps_this_session(gateway: RunningGateway) -> None:
    this, other = _second_session(gateway, "ada@example.com")
    assert _logout(gateway, this["access_token"], "others").status_code == 204
    assert error_code(_refresh(gateway, other["refresh_token"])) == "refresh_token_not_found"
    assert _refresh(gateway, this["refresh_token"]).status_code == 200


def test_a_global_logout_revokes_every_session_and_its_access_tokens(
    gateway: RunningGateway,
) -> None:
    this, other = _second_session(gateway, "ada@example.com")
    assert _logout(gateway, this["access_token"], "global").status_code == 204
    for session in (this, other):
        assert error_code(_refresh(gateway, session["refresh_token"])) == "refresh_token_not_found"
        user = httpx.get(
            f"{gateway.url}/auth/v1/user", headers=_headers(gateway, session["access_token"])
        )
        assert (user.status_code, error_code(user)) == (403, "session_not_found")


def test_an_unknown_logout_scope_is_validation_failed_and_revokes_nothing(
    gateway: RunningGateway,
) -> None:
    session = _sign_in(gateway)
    reply = _logout(gateway, session["access_token"], "everyone")
    assert (reply.status_code, error_code(reply)) == (400, "validation_failed")
    assert _refresh(gateway, session["refresh_token"]).status_code == 200
