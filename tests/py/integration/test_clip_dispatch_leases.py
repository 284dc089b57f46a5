"""Dispatch as claim, call and record: one lease per job, no transaction open during the render
call, concurrent dispatchers sending a job once, and leases of stopped dispatchers expiring."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio.server.render.http_provider import HttpRenderProvider
from directorstudio.server.render.transport import HttpReply
from tests.support.functions import (
    SCHEDULER_SECRET,
    SERVICE_ROLE_KEY,
    WEBHOOK_SECRET,
    Harness,
    create_user,
    grant_credits,
    harness,
    make_client,
    user_token,
)

Conn = psycopg.Connection[Any]
RENDER_URL = "http://render.test/jobs"
SCHEDULER = {"X-DirectorStudio-Scheduler-Secret": SCHEDULER_SECRET}
# A dispatcher holding a transaction while it waits for the provider shows as a client backend
# idle in transaction; autovacuum workers and other sessions' running statements are not that.
OPEN_TRANSACTIONS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND backend_type = 'client backend' AND state LIKE 'idle in transaction%'"
)


class RenderService:
    """Accepts every job; runs ``during`` inside each request before answering."""

    def __init__(self) -> None:
        self.during: Callable[[str], None] = lambda _job: None
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        job_id = json.loads(body)["job_id"]
        self.during(job_id)
        with self.lock:
            self.requests.append(job_id)
        return HttpReply(202, json.dumps({"provider_job_id": f"r-{job_id}"}).encode())


@pytest.fixture
def service() -> RenderService:
    return RenderService()


@pytest.fixture
def h(database_url: str, tmp_path: Path, service: RenderService) -> Iterator[Harness]:
    def provider(_post: Any, clock: Any) -> HttpRenderProvider:
        return HttpRenderProvider(RENDER_URL, WEBHOOK_SECRET, post=service, clock=clock)

    with harness(database_url, tmp_path / "renders", provider_factory=provider) as value:
        yield value


def _rpc_job(database_url: str, user: uuid.UUID) -> str:
    """A job created over the rpc (nothing dispatches it)."""
    job_id = str(uuid.uuid4())
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        request_transaction(conn, "authenticated", claims_for_user(str(user))),
    ):
        conn.execute("SELECT public.enqueue_clip_job(%s, %s, 'Lanterns')", (job_id, str(user)))
    return job_id


def _dispatch_clip(body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    client = make_client("enqueue_clip", target="dispatch_clip")
    return client.post("/", json=body, headers=SCHEDULER if headers is None else headers)


def _retry() -> Any:
    return make_client("enqueue_clip", target="retry_dispatch").post("/", headers=SCHEDULER)


def test_no_transaction_is_open_while_the_render_provider_is_called(
    h: Harness, service: RenderService, admin_conn: Conn
) -> None:
    open_during_call: list[int] = []

    def look(_job: str) -> None:
        with psycopg.connect(h.database_url, autocommit=True) as conn:
            row = conn.execute(OPEN_TRANSACTIONS).fetchone()
            open_during_call.append(int(row[0]) if row else -1)

    service.during = look
    user = create_user(admin_conn)
    body = {"job_id": str(uuid.uuid4()), "prompt": "Quiet harbour", "user_key": str(user)}
    assert h.enqueue_clip(user_token(user), body).status_code == 201  # the enqueue path
    grant_credits(admin_conn, user, 2)
    assert _dispatch_clip({"job_id": _rpc_job(h.database_url, user)}).status_code == 200
    _rpc_job(h.database_url, user)
    assert _retry().get_json()["dispatched"] == 1
    assert open_during_call == [0, 0, 0]


def test_concurrent_dispatchers_send_a_job_once(
    h: Harness, service: RenderService, admin_conn: Conn
) -> None:
    job_id = _rpc_job(h.database_url, create_user(admin_conn))
    dispatchers = 6
    returned = threading.Semaphore(0)

    def hold_until_the_others_returned(_job: str) -> None:
        # The lease holder calls the provider only once every other dispatcher has given up.
        for _ in range(dispatchers - 1):
            assert returned.acquire(timeout=30)

    service.during = hold_until_the_others_returned
    barrier = threading.Barrier(dispatchers)
    claimed: list[bool] = []

    def notified(client: Any) -> None:
        barrier.wait()
        answer = client.post("/", json={"job_id": job_id}, headers=SCHEDULER).get_json()
        claimed.append(answer["claimed"])
        if not answer["claimed"]:
            returned.release()

    def retried(client: Any) -> None:
        barrier.wait()
        summary = client.post("/", headers=SCHEDULER).get_json()
        claimed.append(summary["dispatched"] == 1)
        if summary["dispatched"] == 0:
            returned.release()

    # The apps are built here, not in the threads: building Flask apps concurrently trips a
    # CPython 3.11 bug in ast.parse ("AST constructor recursion depth mismatch").
    threads = [
        threading.Thread(
            target=notified, args=(make_client("enqueue_clip", target="dispatch_clip"),)
        )
        for _ in range(4)
    ]
    threads += [
        threading.Thread(
            target=retried, args=(make_client("enqueue_clip", target="retry_dispatch"),)
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert service.requests == [job_id]
    assert sorted(claimed) == [False] * (dispatchers - 1) + [True]
    assert h.job(job_id)["provider_job_id"] == f"r-{job_id}"
    assert h.job(job_id)["attempts"] == 1


def test_a_lease_left_by_a_stopped_dispatcher_expires_and_the_retry_takes_the_job(
    h: Harness, service: RenderService, admin_conn: Conn
) -> None:
    job_id = _rpc_job(h.database_url, create_user(admin_conn))
    assert h.context.dispatcher.claim(job_id).claimed  # and then the dispatcher stops
    assert _retry().get_json() == {"attempted": 0, "dispatched": 0, "failed": 0}
    assert not _dispatch_clip({"job_id": job_id}).get_json()["claimed"]
    assert service.requests == []

    admin_conn.execute(
        "UPDATE private.clip_dispatch_leases"
        " SET claimed_at = now() - interval '2 minutes', lease_until = now() - interval '1 second'"
        " WHERE job_id = %s",
        (job_id,),
    )
    assert _retry().get_json() == {"attempted": 1, "dispatched": 1, "failed": 0}
    assert service.requests == [job_id]
    assert h.job(job_id)["provider_job_id"] == f"r-{job_id}"
    assert admin_conn.execute("SELECT count(*) FROM private.clip_dispatch_leases").fetchone() == (
        0,
    )


def test_a_job_accepted_by_the_provider_is_not_claimed_again(
    h: Harness, service: RenderService, admin_conn: Conn
) -> None:
    job_id = _rpc_job(h.database_url, create_user(admin_conn))
    assert _dispatch_clip({"job_id": job_id}).get_json()["claimed"]
    again = _dispatch_clip({"job_id": job_id}).get_json()
    assert (again["claimed"], again["job"]["provider_job_id"]) == (False, f"r-{job_id}")
    assert service.requests == [job_id]


def test_dispatch_clip_takes_a_database_webhook_payload_with_the_service_key(
    h: Harness, service: RenderService, admin_conn: Conn
) -> None:
    job_id = _rpc_job(h.database_url, create_user(admin_conn))
    payload = {
        "type": "INSERT",
        "table": "clip_jobs",
        "schema": "public",
        "record": {"id": job_id, "status": "queued"},
        "old_record": None,
    }
    answer = _dispatch_clip(payload, {"Authorization": f"Bearer {SERVICE_ROLE_KEY}"})
    assert answer.status_code == 200
    assert answer.get_json()["job"]["provider_job_id"] == f"r-{job_id}"
    assert service.requests == [job_id]


def test_dispatch_clip_needs_scheduler_credentials_and_a_job(h: Harness) -> None:
    refused = _dispatch_clip({"job_id": str(uuid.uuid4())}, {})
    assert (refused.status_code, refused.get_json()["code"]) == (401, "not_authenticated")
    assert _dispatch_clip({"job": "nothing"}).status_code == 422
    missing = _dispatch_clip({"job_id": str(uuid.uuid4())})
    assert (missing.status_code, missing.get_json()["code"]) == (404, "not_found")


def test_a_claim_needs_a_lease_of_one_second_to_an_hour(h: Harness, admin_conn: Conn) -> None:
    job_id = _rpc_job(h.database_url, create_user(admin_conn))
    for seconds in (0, 3601, None):
        with (
            pytest.raises(DirectorStudioError) as raised,
            psycopg.connect(h.database_url, autocommit=True) as conn,
            request_transaction(conn, "service_role", {"role": "service_role"}),
        ):
            conn.execute("SELECT public.claim_clip_dispatch(%s, %s)", (job_id, seconds))
        assert raised.value.code == ErrorCode.INVALID_INPUT
    assert admin_conn.execute("SELECT count(*) FROM private.clip_dispatch_leases").fetchone() == (
        0,
    )
