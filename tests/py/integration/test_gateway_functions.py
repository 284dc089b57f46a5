"""/functions/v1/<name> reaches the real HTTP functions and passes their answers through."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from supabase_functions.errors import FunctionsHttpError

from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    functions_gateway_fixture,
    gateway_fixture,
    sync_client,
)


def signed_in(gateway: RunningGateway) -> tuple[Any, Any]:
    client = sync_client(gateway)
    session = client.auth.sign_in_anonymously().session
    return client, session


def enqueue_body(user_id: str, job_id: str) -> dict[str, Any]:
    return {"job_id": job_id, "prompt": "A lighthouse in a storm", "user_key": user_id}


def test_enqueue_clip_through_supabase_py_creates_a_free_first_job(
    functions_gateway: RunningGateway,
) -> None:
    client, session = signed_in(functions_gateway)
    job_id = str(uuid.uuid4())
    job = client.functions.invoke(
        "enqueue_clip",
        {"body": enqueue_body(session.user.id, job_id), "responseType": "json"},
    )
    assert job["id"] == job_id
    assert job["charge"] == "free"
    stored = client.rpc("get_clip_job_status", {"p_job_id": job_id}).execute().data
    assert stored["id"] == job_id


def test_the_functions_status_codes_pass_through(functions_gateway: RunningGateway) -> None:
    _, session = signed_in(functions_gateway)
    headers = {
        "apikey": functions_gateway.keys.anon_key,
        "Authorization": f"Bearer {session.access_token}",
    }
    url = f"{functions_gateway.url}/functions/v1/enqueue_clip"
    body = enqueue_body(session.user.id, str(uuid.uuid4()))
    created = httpx.post(url, json=body, headers=headers, timeout=30)
    replayed = httpx.post(url, json=body, headers=headers, timeout=30)
    assert created.status_code == 201
    assert replayed.status_code == 200
    assert replayed.json()["id"] == created.json()["id"]
    assert created.headers["content-type"].startswith("application/json")


def test_a_call_without_a_user_token_is_refused_by_the_function(
    functions_gateway: RunningGateway,
) -> None:
    client = sync_client(functions_gateway)
    with pytest.raises(FunctionsHttpError):
        client.functions.invoke(
            "enqueue_clip", {"body": enqueue_body(str(uuid.uuid4()), str(uuid.uuid4()))}
        )
    reply = httpx.post(
        f"{functions_gateway.url}/functions/v1/enqueue_clip",
        json=enqueue_body(str(uuid.uuid4()), str(uuid.uuid4())),
        headers={"apikey": functions_gateway.keys.anon_key},
        timeout=30,
    )
    assert reply.status_code == 401
    assert reply.json()["code"] == "not_authenticated"


def test_telemetry_batch_through_supabase_py_applies_a_batch_once(
    functions_gateway: RunningGateway,
) -> None:
    client, _ = signed_in(functions_gateway)
    batch = {
        "batch_id": str(uuid.uuid4()),
        "events": [{"element": "lighting", "attempts": 2, "successes": 1}],
    }
    first = client.functions.invoke("telemetry_batch", {"body": batch, "responseType": "json"})
    again = client.functions.invoke("telemetry_batch", {"body": batch, "responseType": "json"})
    assert first["applied"] is True
    assert again["applied"] is False


def test_a_webhook_with_a_forged_signature_is_refused(functions_gateway: RunningGateway) -> None:
    reply = httpx.post(
        f"{functions_gateway.url}/functions/v1/clip_webhook",
        json={"job_id": str(uuid.uuid4()), "status": "processing"},
        headers={
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAA",
        },
        timeout=30,
    )
    assert reply.status_code == 401


def test_an_unknown_function_is_404(functions_gateway: RunningGateway) -> None:
    reply = httpx.post(
        f"{functions_gateway.url}/functions/v1/no_such_function",
        json={},
        headers={"apikey": functions_gateway.keys.anon_key},
        timeout=30,
    )
    assert reply.status_code == 404


def test_without_the_functions_server_every_function_is_not_found(
    gateway: RunningGateway,
) -> None:
    reply = httpx.post(
        f"{gateway.url}/functions/v1/enqueue_clip",
        json={},
        headers={"apikey": gateway.keys.anon_key},
    )
    assert reply.status_code == 404
    assert reply.json()["code"] == "NOT_FOUND"
