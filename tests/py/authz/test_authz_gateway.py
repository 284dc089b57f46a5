"""The gateway's other routes in the matrix: every route has a row, the auth endpoints that
need a session and realtime's private topics refuse every bad credential."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.py.authz.conftest import Parties
from tests.py.authz.credentials import REFUSED, WITHOUT_APIKEY, Credential, valid
from tests.py.authz.matrix import (
    ROUTE_ROWS,
    Send,
    only_own_rows,
    refused_without_effect,
)
from tests.support.api_stack import ApiStack
from tests.support.routes import gateway_routes

SESSION_ENDPOINTS = [
    (method, path) for (method, path), row in ROUTE_ROWS.items() if row.startswith("auth endpoint")
]


def test_every_gateway_route_has_a_row_in_the_matrix() -> None:
    routes = {(route.method, route.path) for route in gateway_routes()}
    assert routes == set(ROUTE_ROWS)


def _request(stack: ApiStack, method: str, path: str, cred: Credential) -> Send:
    return lambda: stack.http.request(method, f"{stack.url}{path}", headers=cred.headers())


def test_the_auth_endpoints_that_need_a_session_refuse_every_bad_credential(
    stack: ApiStack, parties: Parties
) -> None:
    assert SESSION_ENDPOINTS == [
        ("GET", "/auth/v1/user"),
        ("PUT", "/auth/v1/user"),
        ("POST", "/auth/v1/logout"),
    ]
    calls = [
        (
            f"{method} {path} with {name}",
            _request(stack, method, path, make(stack, parties.attacker)),
        )
        for method, path in SESSION_ENDPOINTS
        for name, make in (REFUSED | WITHOUT_APIKEY).items()
    ]
    failures = refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_deleting_a_user_refuses_every_credential_but_the_service_key(
    stack: ApiStack, parties: Parties
) -> None:
    [(method, path)] = [key for key, row in ROUTE_ROWS.items() if row.startswith("service only")]
    target = path.replace("{user_id}", parties.victim.user_id)
    credentials = {**REFUSED, **WITHOUT_APIKEY, "another user's token": valid}
    calls = [
        (f"{method} {target} with {name}", _request(stack, method, target, make(stack, who)))
        for name, make in credentials.items()
        for who in (parties.attacker, parties.victim)
    ]
    failures = refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_another_users_session_reads_and_ends_only_its_own(
    stack: ApiStack, parties: Parties
) -> None:
    cred = valid(stack, parties.attacker)
    calls = [
        (f"{method} {path} with another user's token", "", _request(stack, method, path, cred))
        for method, path in SESSION_ENDPOINTS
    ]
    failures = only_own_rows(stack, parties.attacker, parties.victim, calls)
    assert not failures, "\n".join(failures)


async def _join(stack: ApiStack, cred: Credential, topic: str) -> Any:
    url = stack.url.replace("http", "ws", 1) + "/realtime/v1/websocket"
    params = {"vsn": "1.0.0", **({"apikey": cred.apikey} if cred.apikey else {})}
    async with aiohttp.ClientSession() as session:
        try:
            socket = await session.ws_connect(url, params=params)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status
        async with socket:
            await socket.send_json(
                {
                    "event": "phx_join",
                    "topic": f"realtime:{topic}",
                    "ref": "1",
                    "join_ref": "1",
                    "payload": {
                        "config": {
                            "broadcast": {"self": False},
                            "private": True,
                            "postgres_changes": [],
                        },
                        "access_token": cred.token,
                    },
                }
            )
            reply = await socket.receive_json(timeout=30)
            return reply["payload"]["status"]


def test_a_private_user_topic_refuses_every_credential_but_its_owners(
    stack: ApiStack, parties: Parties
) -> None:
    topic = f"user:{parties.victim.user_id}"
    outcomes = {
        name: asyncio.run(_join(stack, make(stack, parties.attacker), topic))
        for name, make in (REFUSED | WITHOUT_APIKEY).items()
    }
    outcomes["another user's token"] = asyncio.run(
        _join(stack, valid(stack, parties.attacker), topic)
    )
    unkeyed = {"no apikey": 401, "user token without apikey": 401}
    assert outcomes == {name: unkeyed.get(name, "error") for name in outcomes}
    assert asyncio.run(_join(stack, valid(stack, parties.victim), topic)) == "ok"
