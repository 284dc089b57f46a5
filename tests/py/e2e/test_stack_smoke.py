"""The local stack as a user meets it: ``directorstudio up`` in a subprocess, then supabase-py.

Sign in anonymously, create a project and a scene over rpc, enqueue a clip through
/functions/v1/enqueue_clip (the first clip is free), receive the change hint on the private
topic user:<id>, see the job completed with a download URL serving a decodable MP4; then stop
the stack with Ctrl-C, start it again on the same data directory and find everything intact.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from supabase import AClientOptions, acreate_client
from tests.support.cluster import postgres_reachable_dir
from tests.support.stack_process import StackPorts, StackProcess, start_stack

JOB_DEADLINE = 120.0
HINT_DEADLINE = 60.0
POLL_INTERVAL = 0.2


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with postgres_reachable_dir("directorstudio-smoke-") as base:
        yield base / "stack"


async def _client(stack: StackProcess) -> Any:
    options = AClientOptions(auto_refresh_token=False, persist_session=False)
    return await acreate_client(stack.url, stack.keys()["anon_key"], options=options)


async def _wait_for_completion(client: Any, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_DEADLINE
    while time.monotonic() < deadline:
        job: dict[str, Any] = (
            await client.rpc("get_clip_job_status", {"p_job_id": job_id}).execute()
        ).data
        if job["status"] in ("completed", "failed", "canceled"):
            return job
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"job {job_id} did not finish within {JOB_DEADLINE}s")


def _download(url: str, target: Path) -> Path:
    with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - local URL
        target.write_bytes(reply.read())
    return target


async def _first_session(stack: StackProcess, work: Path) -> dict[str, Any]:
    client = await _client(stack)
    session = (await client.auth.sign_in_anonymously()).session
    user_id = session.user.id
    project_id, scene_id, job_id = (str(uuid.uuid4()) for _ in range(3))

    hints: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    joined: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    channel = client.channel(f"user:{user_id}", {"config": {"private": True}})
    channel.on_broadcast("change", lambda message: hints.put_nowait(message["payload"]))
    await channel.subscribe(lambda state, error: joined.done() or joined.set_result(state))
    assert str(await asyncio.wait_for(joined, HINT_DEADLINE)).endswith("SUBSCRIBED")

    project = await client.rpc(
        "upsert_project_overview", {"p_project_id": project_id, "p_title": "Smoke test"}
    ).execute()
    assert project.data["title"] == "Smoke test"
    scene = await client.rpc(
        "create_scene_draft",
        {
            "p_id": scene_id,
            "p_project_id": project_id,
            "p_prompt_text": "A lighthouse in a storm",
            "p_duration": 3.0,
        },
    ).execute()
    assert scene.data["project_id"] == project_id

    reply = await client.functions.invoke(
        "enqueue_clip",
        {
            "body": {
                "job_id": job_id,
                "prompt": "A lighthouse in a storm",
                "user_key": user_id,
                "project_id": project_id,
                "scene_draft_id": scene_id,
            },
            "responseType": "json",
        },
    )
    assert reply["id"] == job_id
    assert reply["charge"] == "free"

    deadline = time.monotonic() + HINT_DEADLINE
    while True:
        remaining = deadline - time.monotonic()
        hint = await asyncio.wait_for(hints.get(), max(remaining, 0.01))
        if hint.get("table") == "clip_jobs" and hint.get("id") == job_id:
            break

    job = await _wait_for_completion(client, job_id)
    assert job["status"] == "completed", job
    video = _download(job["download_url"], work / "first.mp4")
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert frames > 0
    assert seconds > 0
    await client.realtime.close()
    return {
        "refresh_token": session.refresh_token,
        "user_id": user_id,
        "project_id": project_id,
        "scene_id": scene_id,
        "job": job,
    }


async def _after_restart(stack: StackProcess, before: dict[str, Any], work: Path) -> None:
    client = await _client(stack)
    session = (await client.auth.refresh_session(before["refresh_token"])).session
    assert session.user.id == before["user_id"]
    projects = (await client.rpc("list_project_overviews", {}).execute()).data
    assert [p["project_id"] for p in projects] == [before["project_id"]]
    assert projects[0]["scene_count"] == 1
    scenes = (
        await client.rpc("list_scene_drafts", {"p_project_id": before["project_id"]}).execute()
    ).data
    assert [s["id"] for s in scenes] == [before["scene_id"]]
    job = (
        await client.rpc("get_clip_job_status", {"p_job_id": before["job"]["id"]}).execute()
    ).data
    assert job["status"] == "completed"
    assert job["download_url"] == before["job"]["download_url"]
    credits = (await client.rpc("get_credits", {}).execute()).data
    assert credits[0]["first_clip_consumed"] is True
    video = _download(job["download_url"], work / "again.mp4")
    assert imageio_ffmpeg.count_frames_and_secs(str(video))[0] > 0


def test_a_clip_made_through_the_local_stack_survives_a_restart(data_dir: Path) -> None:
    ports = StackPorts.free()
    work = data_dir.parent
    stack = start_stack(data_dir, ports)
    try:
        status = stack.cli("status", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        assert json.loads(status.stdout)["database"] == "ok"
        before = asyncio.run(_first_session(stack, work))
    finally:
        assert stack.stop() == 0, stack.log.read_text()

    restarted = start_stack(data_dir, ports)
    try:
        asyncio.run(_after_restart(restarted, before, work))
    finally:
        assert restarted.stop() == 0, restarted.log.read_text()
    assert "stopped; all data kept" in restarted.log.read_text()
