"""Dispatch of new jobs to the render provider: retries, deferred retries, failure and refund."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio.server import runtime, webhook_signing
from directorstudio.server.render.base import RenderUnavailableError
from directorstudio.server.render.http_provider import HttpRenderProvider
from directorstudio.server.render.transport import HttpReply
from tests.support.functions import (
    CALLBACK_URL,
    JWT_SECRET,
    SCHEDULER_SECRET,
    SERVICE_ROLE_KEY,
    WEBHOOK_SECRET,
    Harness,
    consume_free_clip,
    create_user,
    event_body,
    grant_credits,
    harness,
    make_client,
    settings_for_tests,
    user_token,
)

RENDER_URL = "http://render.test/jobs"


class RenderService:
    """The far side of the HTTP provider: fails the first ``failures`` requests, or answers
    ``status`` for good; records every request."""

    def __init__(self, failures: int = 0, *, status: int = 503, forever: bool = False) -> None:
        self.failures = failures
        self.status = status
        self.forever = forever
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        with self.lock:
            self.requests.append((url, body, dict(headers)))
            count = len(self.requests)
        if self.forever or count <= self.failures:
            if self.status == 0:
                raise RenderUnavailableError("connection refused")
            return HttpReply(self.status, b'{"error":"busy"}')
        job_id = json.loads(body)["job_id"]
        return HttpReply(202, json.dumps({"provider_job_id": f"r-{job_id}"}).encode())


@pytest.fixture
def service() -> RenderService:
    return RenderService()


@pytest.fixture
def h(database_url: str, tmp_path: Path, service: RenderService) -> Iterator[Harness]:
    def provider(_post: Any, clock: Any) -> HttpRenderProvider:
        return HttpRenderProvider(RENDER_URL, WEBHOOK_SECRET, post=service, clock=clock)

    with harness(database_url, tmp_path / "renders", provider_factory=provider) as value:
        value.extra["retry"] = make_client("enqueue_clip", target="retry_dispatch")
        yield value


def _paid_user(conn: psycopg.Connection[Any]) -> uuid.UUID:
    user = create_user(conn)
    consume_free_clip(conn, user)
    grant_credits(conn, user, 1)
    return user


def _enqueue(h: Harness, user: uuid.UUID) -> dict[str, Any]:
    body = {"job_id": str(uuid.uuid4()), "prompt": "Snow over Kyoto", "user_key": str(user)}
    response = h.enqueue_clip(user_token(user), body)
    assert response.status_code == 201, response.get_json()
    job: dict[str, Any] = response.get_json()
    return job


def _retry(h: Harness, headers: dict[str, str]) -> Any:
    return h.extra["retry"].post("/", headers=headers)


def test_transient_failures_are_retried_and_each_attempt_is_recorded(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    service.failures = 2
    job = _enqueue(h, _paid_user(admin_conn))
    assert job["provider_job_id"] == f"r-{job['id']}"
    assert job["attempts"] == 3
    assert job["status"] == "queued"
    assert len(service.requests) == 3


def test_the_render_request_names_the_job_prompt_and_callback_and_is_signed(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    job = _enqueue(h, _paid_user(admin_conn))
    url, body, headers = service.requests[0]
    assert url == RENDER_URL
    sent = json.loads(body)
    assert (sent["job_id"], sent["prompt"], sent["callback_url"]) == (
        job["id"],
        "Snow over Kyoto",
        CALLBACK_URL,
    )
    assert webhook_signing.verify(WEBHOOK_SECRET, body, headers, clock=h.clock) == job["id"]


def test_a_dispatch_that_keeps_failing_waits_for_retry_then_fails_and_refunds_once(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    service.forever = True
    user = _paid_user(admin_conn)
    job = _enqueue(h, user)
    assert (job["status"], job["attempts"], job["provider_job_id"]) == ("queued", 3, None)
    assert h.balance(user) == (0, True)

    response = _retry(h, {"X-DirectorStudio-Scheduler-Secret": SCHEDULER_SECRET})
    assert response.status_code == 200
    assert response.get_json() == {"attempted": 1, "dispatched": 0, "failed": 1}
    after = h.job(job["id"])
    assert (after["status"], after["attempts"]) == ("failed", 5)
    assert after["refunded_at"] is not None
    assert h.balance(user) == (1, True)
    assert h.refunds(job["id"]) == 1
    assert _retry(h, {"X-DirectorStudio-Scheduler-Secret": SCHEDULER_SECRET}).get_json() == {
        "attempted": 0,
        "dispatched": 0,
        "failed": 0,
    }
    assert h.balance(user) == (1, True)


def test_a_network_failure_is_transient_and_a_later_retry_dispatches_the_job(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    service.failures, service.status = 3, 0
    job = _enqueue(h, _paid_user(admin_conn))
    assert job["provider_job_id"] is None
    response = _retry(h, {"Authorization": f"Bearer {SERVICE_ROLE_KEY}"})
    assert response.get_json() == {"attempted": 1, "dispatched": 1, "failed": 0}
    assert h.job(job["id"])["provider_job_id"] == f"r-{job['id']}"


def test_a_refused_render_request_fails_and_refunds_the_job_at_once(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    service.forever, service.status = True, 400
    user = _paid_user(admin_conn)
    job = _enqueue(h, user)
    assert (job["status"], job["attempts"]) == ("failed", 1)
    assert len(service.requests) == 1
    assert h.balance(user) == (1, True)


def test_retry_dispatch_needs_scheduler_credentials(h: Harness) -> None:
    for headers in (
        {},
        {"X-DirectorStudio-Scheduler-Secret": "guess"},
        {"Authorization": "Bearer guess"},
        {"Authorization": f"Bearer {user_token(uuid.uuid4())}"},
    ):
        response = _retry(h, headers)
        assert response.status_code == 401
        assert response.get_json()["code"] == "not_authenticated"


def test_a_service_role_jwt_may_run_retry_dispatch(h: Harness) -> None:
    import jwt

    token = jwt.encode(
        {"role": "service_role", "iss": "supabase", "exp": 4102444800}, JWT_SECRET, "HS256"
    )
    assert _retry(h, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_concurrent_replays_dispatch_a_job_once(
    h: Harness, service: RenderService, admin_conn: psycopg.Connection[Any]
) -> None:
    user = _paid_user(admin_conn)
    body = {"job_id": str(uuid.uuid4()), "prompt": "Twin suns", "user_key": str(user)}
    token = user_token(user)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def call(client: Any) -> None:
        barrier.wait()
        statuses.append(
            client.post("/", json=body, headers={"Authorization": f"Bearer {token}"}).status_code
        )

    # Apps built before the threads start: building Flask apps concurrently trips CPython
    # 3.11's ast.parse ("AST constructor recursion depth mismatch").
    threads = [threading.Thread(target=call, args=(make_client("enqueue_clip"),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert len(service.requests) == 1
    assert h.balance(user) == (0, True)
    assert h.job(body["job_id"])["provider_job_id"] == f"r-{body['job_id']}"


def test_cancel_refunds_once_and_a_late_completion_changes_nothing(
    h: Harness, admin_conn: psycopg.Connection[Any]
) -> None:
    user = _paid_user(admin_conn)
    job = _enqueue(h, user)
    assert h.balance(user) == (0, True)
    with psycopg.connect(h.database_url, autocommit=True) as conn:
        for _ in range(2):
            with request_transaction(conn, "authenticated", claims_for_user(str(user))):
                conn.execute("SELECT public.cancel_clip_job(%s)", (job["id"],))
    late = h.deliver(event_body(job["id"], "completed", download_url="http://cdn.test/x.mp4"))
    assert late.status_code == 200
    assert late.get_json()["outcome"] == "stale"
    assert h.job(job["id"])["status"] == "canceled"
    assert h.balance(user) == (1, True)
    assert h.refunds(job["id"]) == 1


def test_a_missing_render_configuration_defers_dispatch_and_tells_the_scheduler(
    database_url: str, tmp_path: Path, admin_conn: psycopg.Connection[Any]
) -> None:
    settings = settings_for_tests(database_url, tmp_path / "renders", clip_webhook_secret=None)
    context = runtime.build(settings)
    runtime.install(context)
    try:
        user = _paid_user(admin_conn)
        body = {"job_id": str(uuid.uuid4()), "prompt": "Unconfigured", "user_key": str(user)}
        response = make_client("enqueue_clip").post(
            "/", json=body, headers={"Authorization": f"Bearer {user_token(user)}"}
        )
        assert response.status_code == 201
        job = response.get_json()
        assert (job["status"], job["attempts"], job["provider_job_id"]) == ("queued", 0, None)
        retry = make_client("enqueue_clip", target="retry_dispatch").post(
            "/", headers={"X-DirectorStudio-Scheduler-Secret": SCHEDULER_SECRET}
        )
        assert retry.status_code == 503
        assert retry.get_json()["code"] == "unavailable"
        assert "CLIP_WEBHOOK_SECRET" in retry.get_json()["message"]
    finally:
        runtime.install(None)
        context.close()
