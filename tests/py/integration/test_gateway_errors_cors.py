"""Every answer of the gateway is JSON in PostgREST's error shape when it refuses (unknown
routes, methods, media types, bodies too large, an unreachable database) on every base path,
and carries hosted Supabase's CORS headers; ``OPTIONS`` preflights are answered."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from directorstudio.pgcluster import free_port
from directorstudio.server import limits
from directorstudio.stack import keys, realtime
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.db import ConnectionPool
from directorstudio.stack.gateway import build_app
from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
)

ERROR_KEYS = {"code", "details", "hint", "message"}
BASE_PATHS = [
    "/rest/v1/project_overview",
    "/auth/v1/token",
    "/functions/v1/enqueue_clip",
    "/realtime/v1/api/broadcast",
    "/storage/v1/object/x",
    "/no/such/base",
]


def call(gateway: RunningGateway, method: str, path: str, **headers: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{gateway.url}{path}",
        headers={"apikey": gateway.keys.anon_key, **headers},
        timeout=30,
    )


@pytest.mark.parametrize("path", BASE_PATHS)
def test_a_preflight_is_answered_on_every_base_path(gateway: RunningGateway, path: str) -> None:
    reply = httpx.options(
        f"{gateway.url}{path}",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-client-info, apikey, prefer",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in reply.headers["access-control-allow-methods"]
    assert reply.headers["access-control-allow-headers"] == (
        "authorization, x-client-info, apikey, prefer"
    )
    assert reply.headers["access-control-max-age"] == "86400"


def test_a_preflight_without_requested_headers_allows_the_clients_headers(
    gateway: RunningGateway,
) -> None:
    reply = httpx.options(f"{gateway.url}/rest/v1/project_overview")
    allowed = {item.strip() for item in reply.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "apikey", "content-type", "prefer", "range", "x-client-info"} <= (
        allowed
    )


def test_answers_and_refusals_carry_the_cors_headers(gateway: RunningGateway) -> None:
    for reply in (
        call(gateway, "GET", "/auth/v1/health"),
        call(gateway, "GET", "/rest/v1/project_overview"),
        call(gateway, "GET", "/no/such/base"),
    ):
        assert reply.headers["access-control-allow-origin"] == "*"
        assert "Content-Range" in reply.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "path", ["/rest/v1/a/b", "/rest/v1/", "/realtime/v1/nothing", "/no/such/base", "/"]
)
def test_an_unknown_route_is_a_json_404_pgrst125(gateway: RunningGateway, path: str) -> None:
    reply = call(gateway, "GET", path)
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/json")
    assert set(reply.json()) == ERROR_KEYS
    assert reply.json()["code"] == "PGRST125"


def test_a_method_a_route_does_not_take_is_a_json_405_pgrst117(gateway: RunningGateway) -> None:
    reply = call(gateway, "PUT", "/rest/v1/project_overview")
    assert reply.status_code == 405
    assert set(reply.json()) == ERROR_KEYS
    assert reply.json()["code"] == "PGRST117"
    assert "PATCH" in reply.headers["allow"]


def test_a_media_type_or_schema_not_served_is_a_json_406(gateway: RunningGateway) -> None:
    csv = call(gateway, "GET", "/rest/v1/project_overview", Accept="text/csv")
    assert (csv.status_code, csv.json()["code"]) == (406, "PGRST107")
    other = call(gateway, "GET", "/rest/v1/project_overview", **{"Accept-Profile": "private"})
    assert (other.status_code, other.json()["code"]) == (406, "PGRST106")


def test_a_body_over_the_limit_is_a_json_413(gateway: RunningGateway) -> None:
    big = b'{"title": "' + b"x" * (limits.MAX_BODY_BYTES + 1) + b'"}'
    reply = httpx.post(
        f"{gateway.url}/rest/v1/project_overview",
        content=big,
        headers={"apikey": gateway.keys.anon_key, "Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 413
    assert set(reply.json()) == ERROR_KEYS
    assert reply.json()["hint"] == "payload_too_large"


async def _unreachable_answers(requests: list[tuple[str, str, Any]]) -> list[tuple[int, Any]]:
    stack_keys = keys.generate()
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    config = GatewayConfig(keys=stack_keys, public_url="http://127.0.0.1:9", database_url=url)
    pool = ConnectionPool(url, timeout=1.0)
    app = build_app(config, pool, realtime.RealtimeHub())
    answers = []
    async with TestClient(TestServer(app)) as client:
        for method, path, body in requests:
            reply = await client.request(
                method, path, json=body, headers={"apikey": stack_keys.anon_key}
            )
            answers.append((reply.status, await reply.json()))
    await pool.close()
    return answers


def test_an_unreachable_database_is_a_json_503_on_every_path_that_needs_it() -> None:
    *rest_answers, auth_answer = asyncio.run(
        _unreachable_answers(
            [
                ("GET", "/rest/v1/project_overview", None),
                ("POST", "/rest/v1/rpc/list_project_overviews", {}),
                ("POST", "/auth/v1/signup", {"data": {}}),
            ]
        )
    )
    for status, body in rest_answers:
        assert status == 503
        assert set(body) == ERROR_KEYS
        assert body["code"] == "PGRST000"
    # GoTrue's own shape under /auth/v1 (no API version header sent: {code, error_code, msg}).
    status, body = auth_answer
    assert status == 503
    assert body["code"] == 503
    assert body["error_code"] == "unexpected_failure"
