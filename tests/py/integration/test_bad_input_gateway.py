"""Every bad-input class on every path of the local gateway: a documented JSON 4xx, nothing
written.

Paths: ``/rest/v1/rpc`` (PostgREST's error shape; the documented code is what
``contracts.errors.code_for(code, hint)`` gives), GoTrue's ``/auth/v1/signup`` and
``/auth/v1/token`` (GoTrue's ``error_code``), and ``/functions/v1`` (the functions' ``code``),
over real HTTP to a gateway whose functions run in their own functions-framework process.
GoTrue's bodies have no uuid, date or number fields (its ``data`` is free-form metadata), so
those three classes have no auth case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from directorstudio.contracts.errors import ERROR_SPECS, ErrorCode, code_for
from directorstudio.pgcluster import free_port
from directorstudio.server import limits
from directorstudio.stack import keys
from tests.support.bad_input import (
    CLASSES,
    Raw,
    body_with,
    non_finite,
    over_long_array,
    over_long_string,
    oversize,
    raw_body,
)
from tests.support.checksums import database_checksums
from tests.support.cluster import Server, fresh_database
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.gotrue import error_code as gotrue_error_code

DEEP = Raw("[" * 100_000 + "]" * 100_000)
DEEP_WITHIN_64_KIB = Raw("[" * 1000 + "]" * 1000)
NOT_FOR_AUTH = {"invalid_uuid", "invalid_date", "invalid_number"}


@dataclass
class World:
    """One gateway (with its functions) over one database shared by this module's tests."""

    gateway: RunningGateway
    database_url: str
    token: str
    user: str


@pytest.fixture(scope="module")
def world(
    pg_server: Server, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    from directorstudio.stack.functions import FunctionsServer
    from directorstudio.stack.stack import functions_env

    folder: Path = tmp_path_factory.mktemp("bad-input-gateway")
    with fresh_database(pg_server, template_db) as url:
        stack_keys = keys.generate()
        port = free_port()
        env = functions_env(stack_keys, f"http://127.0.0.1:{port}", url, folder / "renders")
        server = FunctionsServer(free_port(), env, folder / "functions.log")
        server.start()
        try:
            with running_gateway(
                url, functions_url=server.url, stack_keys=stack_keys, port=port
            ) as gateway:
                session = httpx.post(
                    f"{gateway.url}/auth/v1/signup",
                    json={"data": {}},
                    headers={"apikey": stack_keys.anon_key},
                    timeout=30,
                ).json()
                yield World(gateway, url, session["access_token"], session["user"]["id"])
        finally:
            server.stop()


Request = tuple[str, bytes]  # (path and query, body)
Case = tuple[list[Request], set[int], set[str]]


def _rpc_cases() -> dict[str, Case]:
    project = {"p_project_id": str(uuid.uuid4()), "p_title": "Road movie"}
    analytics = {
        "p_id": str(uuid.uuid4()),
        "p_validation_date": "2026-12-01T00:00:00Z",
        "p_total_scenes": 2,
        "p_avg_confidence": 0.5,
        "p_scenes_passed": 1,
        "p_scenes_failed": 1,
        "p_min_confidence": 0.2,
        "p_max_confidence": 0.8,
        "p_confidence_stddev": 0.1,
    }
    order = {"p_project_id": project["p_project_id"], "p_ordered_ids": [str(uuid.uuid4())]}
    upsert, append = "/rest/v1/rpc/upsert_project_overview", "/rest/v1/rpc/append_daily_analytics"
    reorder = "/rest/v1/rpc/reorder_scene_drafts"
    invalid, too_large = {"invalid_input"}, {"payload_too_large"}
    stddev = "p_confidence_stddev"
    return {
        "nul_character": ([(upsert, body_with(project, "p_title", "a\x00b"))], {400}, invalid),
        "deep_nesting": ([(upsert, body_with(project, "p_title", DEEP))], {400}, invalid),
        "non_finite_number": (
            [(append, body) for body in non_finite(analytics, stddev)]
            + [(append, body_with(analytics, stddev, text)) for text in ("NaN", "-Infinity")]
            + [(append, body_with(analytics, stddev, "Infinity"))],
            {400},
            invalid,
        ),
        "long_string": (
            [(upsert, body_with(project, "p_title", over_long_string()))],
            {400},
            invalid,
        ),
        "long_array": (
            [(reorder, body_with(order, "p_ordered_ids", order["p_ordered_ids"] * 10_001))],
            {400},
            invalid,
        ),
        "invalid_uuid": ([(upsert, body_with(project, "p_project_id", "nope"))], {400}, invalid),
        "invalid_date": (
            [(append, body_with(analytics, "p_validation_date", "2026-02-30T00:00:00Z"))],
            {400},
            invalid,
        ),
        "invalid_number": (
            [
                (append, body_with(analytics, "p_total_scenes", 2**63)),
                (append, body_with(analytics, "p_total_scenes", "many")),
            ],
            {400},
            invalid,
        ),
        "wrong_type": (
            [(upsert, raw_body("[]")), (upsert, body_with(project, "p_project_id", {"a": 1}))],
            {400},
            invalid,
        ),
        "oversize_body": ([(upsert, oversize(limits.MAX_BODY_BYTES))], {413}, too_large),
    }


def _auth_cases(path: str, base: dict[str, Any], field: str) -> dict[str, Case]:
    refused = {"validation_failed"}
    cases: dict[str, Case] = {
        "nul_character": ([(path, body_with(base, field, "a\x00@b.test"))], {400}, refused),
        "deep_nesting": ([(path, body_with(base, "data", DEEP))], {400}, {"bad_json"}),
        "non_finite_number": (
            [(path, body) for body in non_finite(base, field)],
            {400},
            {"bad_json"},
        ),
        "long_string": ([(path, body_with(base, field, over_long_string()))], {400}, refused),
        "long_array": ([(path, body_with(base, "data", over_long_array()))], {400}, refused),
        "wrong_type": (
            [(path, body_with(base, field, 5)), (path, raw_body("[]"))],
            {400},
            {"bad_json"},
        ),
        "oversize_body": (
            [(path, oversize(limits.MAX_BODY_BYTES))],
            {413},
            {"payload_too_large"},
        ),
    }
    if path == "/auth/v1/signup":
        lengths = [
            (path, body_with(base, "email", "a" * 250 + "@b.test")),
            (path, body_with(base, "password", "p" * 73)),
        ]
        cases["long_string"] = (
            cases["long_string"][0] + lengths,
            {400, 422},
            refused | {"weak_password"},
        )
    return cases


def _functions_cases(user: str) -> dict[str, Case]:
    path = "/functions/v1/enqueue_clip"
    base = {"job_id": str(uuid.uuid4()), "prompt": "A fox in the snow", "user_key": user}
    invalid, too_large = {"invalid_input"}, {"payload_too_large"}

    def one(field: str, value: Any, statuses: set[int]) -> Case:
        return ([(path, body_with(base, field, value))], statuses, invalid)

    return {
        "nul_character": one("prompt", "a\x00b", {400}),
        "deep_nesting": one("prompt", DEEP_WITHIN_64_KIB, {400}),
        "non_finite_number": (
            [(path, body) for body in non_finite(base, "prompt")],
            {400},
            invalid,
        ),
        "long_string": one("prompt", "x" * 2001, {422}),
        "long_array": one("prompt", over_long_array(), {400}),
        "invalid_uuid": one("job_id", "not-a-uuid", {422}),
        "invalid_date": one("day", "2026-02-30", {422}),
        "invalid_number": one("prompt", 10**400, {422}),
        "wrong_type": (
            [(path, body_with(base, "prompt", {"a": 1})), (path, raw_body("[]"))],
            {400, 422},
            invalid,
        ),
        # One body over the function's own limit, one over the gateway's.
        "oversize_body": (
            [(path, oversize(64 * 1024)), (path, oversize(limits.MAX_BODY_BYTES))],
            {413},
            too_large,
        ),
    }


def _cases(path: str, world: World) -> dict[str, Case]:
    if path == "rpc":
        return _rpc_cases()
    if path == "auth_signup":
        base = {"email": "new@example.test", "password": "secret-123", "data": {}}
        return _auth_cases("/auth/v1/signup", base, "email")
    if path == "auth_password":
        base = {"email": "someone@example.test", "password": "secret-123"}
        return _auth_cases("/auth/v1/token?grant_type=password", base, "email")
    if path == "auth_refresh":
        return _auth_cases(
            "/auth/v1/token?grant_type=refresh_token", {"refresh_token": "abc"}, "refresh_token"
        )
    return _functions_cases(world.user)


def _documented_code(path: str, reply: httpx.Response) -> str:
    body = reply.json()
    if path == "rpc":
        code = code_for(body["code"], body["hint"])
        assert ERROR_SPECS[code].http_status == reply.status_code
        return str(code)
    if path.startswith("auth"):
        return gotrue_error_code(reply)
    assert body["code"] in set(ErrorCode)
    return str(body["code"])


PATHS = ("rpc", "auth_signup", "auth_password", "auth_refresh", "functions_proxy")
MATRIX = [
    (path, bad_class)
    for path in PATHS
    for bad_class in CLASSES
    if not (path.startswith("auth") and bad_class in NOT_FOR_AUTH)
]


@pytest.mark.parametrize(("path", "bad_class"), MATRIX)
def test_each_bad_input_class_is_a_documented_json_4xx_that_writes_nothing(
    world: World, path: str, bad_class: str
) -> None:
    requests, statuses, codes = _cases(path, world)[bad_class]
    headers = {
        "apikey": world.gateway.keys.anon_key,
        "Authorization": f"Bearer {world.token}",
        "Content-Type": "application/json",
    }
    before = database_checksums(world.database_url)
    for target, body in requests:
        reply = httpx.post(
            f"{world.gateway.url}{target}", content=body, headers=headers, timeout=60
        )
        assert reply.status_code in statuses, (body[:80], reply.text[:300])
        assert reply.headers["content-type"].startswith("application/json")
        assert _documented_code(path, reply) in codes
    assert database_checksums(world.database_url) == before


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [("GET", "/no/such/route", 404), ("DELETE", "/auth/v1/signup", 405)],
)
def test_the_gateways_own_refusals_are_json_not_text(
    world: World, method: str, target: str, status: int
) -> None:
    reply = httpx.request(method, f"{world.gateway.url}{target}", timeout=30)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    code = gotrue_error_code(reply) if target.startswith("/auth/v1") else body["code"]
    assert code_for(code, code) in {ErrorCode.NOT_FOUND, ErrorCode.METHOD_NOT_ALLOWED}


@pytest.mark.parametrize("field", ["p_avg_confidence", "p_confidence_stddev", "p_max_confidence"])
def test_rpc_callers_cannot_store_nan_or_infinity_given_as_numeric_strings(
    world: World, field: str
) -> None:
    headers = {"apikey": world.gateway.keys.anon_key, "Authorization": f"Bearer {world.token}"}
    before = database_checksums(world.database_url)
    for text in ("NaN", "Infinity", "-Infinity"):
        body = {
            "p_id": str(uuid.uuid4()),
            "p_validation_date": "2026-11-30T00:00:00Z",
            "p_total_scenes": 1,
            "p_avg_confidence": 0.5,
            "p_scenes_passed": 1,
            "p_scenes_failed": 0,
            "p_min_confidence": 0.5,
            "p_max_confidence": 0.5,
            "p_confidence_stddev": 0.0,
            field: text,
        }
        reply = httpx.post(
            f"{world.gateway.url}/rest/v1/rpc/append_daily_analytics",
            json=body,
            headers=headers,
            timeout=30,
        )
        assert reply.status_code == 400, reply.text
        assert reply.json()["hint"] == "invalid_input"
    assert database_checksums(world.database_url) == before
