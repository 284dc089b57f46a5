"""A new clip job reaches the render provider at once, whichever way it was created: the
database announces it on commit and the local stack's listener hands it to dispatch_clip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device
from tests.support.dispatch import DispatchStack, listening_stack

Conn = psycopg.Connection[Any]
WITHIN_SECONDS = 1.0


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[DispatchStack]:
    with listening_stack(database_url, tmp_path / "stack") as running:
        yield running


def _provider_job_id(admin: Conn, job_id: str) -> Any:
    row = admin.execute("SELECT provider_job_id FROM clip_jobs WHERE id = %s", (job_id,)).fetchone()
    return None if row is None else row[0]


def test_a_clip_from_the_client_outbox_reaches_the_render_provider_within_a_second(
    stack: DispatchStack, tmp_path: Path, database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "outbox@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, ManualClock())
    try:
        job = phone.sync.submit_clip_job("a kite over the dunes")
        phone.sync.sync_now()  # sync_push commits the job
        assert job.result(0).outcome == "applied"
        assert stack.render.wait_for(job.row_id, WITHIN_SECONDS)
    finally:
        phone.sync.stop()
        phone.network.close()
    assert stack.render.requests[job.row_id] == 1


def test_a_clip_enqueued_over_rpc_reaches_the_render_provider_within_a_second(
    stack: DispatchStack, database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "rpc@example.com")
    job_id = str(uuid.uuid4())
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        request_transaction(conn, "authenticated", claims_for_user(user)),
    ):
        conn.execute("SELECT public.enqueue_clip_job(%s, %s, 'tide pools')", (job_id, user))
    assert stack.render.wait_for(job_id, WITHIN_SECONDS)
    assert stack.render.requests[job_id] == 1
