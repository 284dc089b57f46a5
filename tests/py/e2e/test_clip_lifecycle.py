"""The whole clip lifecycle over real HTTP: the one-process router serving every function, the
local render provider rendering a real MP4, serving it, and reporting through the webhook."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import functions_framework
import imageio_ffmpeg
import psycopg
import pytest
import tenacity
from werkzeug.serving import BaseWSGIServer, make_server

from directorstudio.server import runtime
from directorstudio.server.render.files import FileServer
from directorstudio.server.render.local import LocalRenderProvider
from directorstudio.server.render.video import VideoSpec
from tests.support.functions import (
    DISPATCHER,
    WEBHOOK_SECRET,
    consume_free_clip,
    create_user,
    grant_credits,
    settings_for_tests,
    user_token,
)

CLIP_SECONDS = 2.0


@dataclass
class Stack:
    base_url: str
    provider: LocalRenderProvider
    database_url: str

    def post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
            f"{self.base_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def job(self, job_id: str) -> dict[str, Any]:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(
                "SELECT to_jsonb(j) FROM public.clip_jobs j WHERE j.id = %s", (job_id,)
            ).fetchone()
        assert row is not None
        return dict(row[0])


def _failing_renderer(prompt: str, output: Path, spec: VideoSpec) -> Path:
    raise RuntimeError("encoder crashed")


@pytest.fixture
def stack(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Stack]:
    app = functions_framework.create_app(target="route", source=str(DISPATCHER))
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    failing = getattr(request, "param", "ffmpeg") == "failing"
    provider = LocalRenderProvider(
        files=FileServer(tmp_path / "renders").start(),
        webhook_secret=WEBHOOK_SECRET,
        spec=VideoSpec(seconds=CLIP_SECONDS),
        renderer=_failing_renderer if failing else None,
    )
    settings = settings_for_tests(
        database_url,
        tmp_path / "renders",
        clip_webhook_url=f"{base_url}/functions/v1/clip_webhook",
        render_clip_seconds=CLIP_SECONDS,
    )
    context = runtime.build(
        settings, provider=provider, wait=tenacity.wait_none(), sleep=lambda _: None
    )
    runtime.install(context)
    try:
        yield Stack(base_url, provider, database_url)
    finally:
        runtime.install(None)
        context.close()
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_clip_goes_from_enqueue_to_a_downloadable_mp4_of_the_requested_length(
    stack: Stack, admin_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    user = create_user(admin_conn)
    job_id = str(uuid.uuid4())
    status, job = stack.post(
        "/functions/v1/enqueue_clip",
        {
            "job_id": job_id,
            "prompt": "A paper boat drifting down a rainy street",
            "user_key": str(user),
        },
        user_token(user),
    )
    assert (status, job["status"], job["provider_job_id"]) == (201, "queued", f"local-{job_id}")

    assert stack.provider.run_pending() == 1
    done = stack.job(job_id)
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert done["started_at"] is not None
    assert done["download_url"].startswith("http://127.0.0.1:")

    target = tmp_path / "downloaded.mp4"
    with urllib.request.urlopen(done["download_url"], timeout=30) as response:  # noqa: S310
        assert response.status == 200
        target.write_bytes(response.read())
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(target))
    assert seconds == pytest.approx(CLIP_SECONDS, abs=0.1)
    assert frames == pytest.approx(CLIP_SECONDS * VideoSpec().fps, abs=2)
    with open(target, "rb") as handle:
        assert handle.read(12)[4:8] == b"ftyp"

    again_status, again = stack.post(
        "/enqueue_clip",
        {
            "job_id": job_id,
            "prompt": "A paper boat drifting down a rainy street",
            "user_key": str(user),
        },
        user_token(user),
    )
    assert (again_status, again["status"]) == (200, "completed")
    assert stack.provider.run_pending() == 0


@pytest.mark.parametrize("stack", ["failing"], indirect=True)
def test_a_render_failure_fails_the_job_and_refunds_it_once(
    stack: Stack, admin_conn: psycopg.Connection[Any]
) -> None:
    user = create_user(admin_conn)
    consume_free_clip(admin_conn, user)
    grant_credits(admin_conn, user, 1)
    job_id = str(uuid.uuid4())
    status, _ = stack.post(
        "/functions/v1/enqueue_clip",
        {"job_id": job_id, "prompt": "Doomed", "user_key": str(user)},
        user_token(user),
    )
    assert status == 201
    stack.provider.run_pending()
    failed = stack.job(job_id)
    assert failed["status"] == "failed"
    assert "encoder crashed" in failed["error_message"]
    row = admin_conn.execute(
        "SELECT credits, (SELECT count(*) FROM public.credit_transactions"
        " WHERE clip_job_id = %s AND kind = 'refund')"
        " FROM public.credits_ledger WHERE user_key = %s",
        (job_id, str(user)),
    ).fetchone()
    assert row == (1, 1)


def test_an_unknown_function_path_is_404(stack: Stack) -> None:
    status, body = stack.post("/functions/v1/nothing_here", {}, "x")
    assert (status, body["code"]) == (404, "not_found")
