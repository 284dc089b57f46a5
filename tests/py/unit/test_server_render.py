"""The render providers and the clip renderer, with the network faked at the transport."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

import imageio_ffmpeg
import pytest

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.pgcluster import free_port
from directorstudio.server import webhook_signing
from directorstudio.server.render.base import RenderJob, RenderRejectedError, RenderUnavailableError
from directorstudio.server.render.files import FileServer
from directorstudio.server.render.http_provider import HttpRenderProvider
from directorstudio.server.render.local import LocalRenderProvider
from directorstudio.server.render.transport import HttpReply, urllib_post
from directorstudio.server.render.video import VideoSpec, find_font, render_clip, wrap_prompt

SECRET = "whsec_" + base64.b64encode(b"render-secret-render-secret-1234").decode()
NOW = 1_800_000_000.0


class Inbox:
    """The webhook's side of the network: records every delivery, answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.events: list[dict[str, object]] = []
        self.ids: list[str] = []
        self.completed = threading.Event()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        event_id = webhook_signing.verify(SECRET, body, headers, clock=lambda: NOW)
        event = json.loads(body)
        self.events.append(event)
        self.ids.append(event_id)
        if event["status"] in ("completed", "failed"):
            self.completed.set()
        return HttpReply(self.status, b"{}")


def _job(prompt: str = "A fox in the snow") -> RenderJob:
    return RenderJob(uuid.uuid4(), prompt, "http://hooks.test/clip_webhook", duration_seconds=1.0)


def _provider(tmp_path: Path, inbox: Inbox, **kwargs: object) -> LocalRenderProvider:
    return LocalRenderProvider(
        files=FileServer(tmp_path / "out").start(),
        webhook_secret=SECRET,
        spec=VideoSpec(width=320, height=180),
        post=inbox,
        clock=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_long_prompts_are_wrapped_and_cut_with_an_ellipsis() -> None:
    text = wrap_prompt("word " * 200, width=20, max_lines=3)
    lines = text.split("\n")
    assert len(lines) == 3
    assert all(len(line) <= 20 for line in lines)
    assert lines[-1].endswith("…")
    assert wrap_prompt("short   and\nsimple") == "short and simple"


@pytest.mark.parametrize("with_font", [True, False])
def test_a_clip_is_a_decodable_h264_mp4_of_the_asked_length(
    tmp_path: Path, with_font: bool
) -> None:
    font = find_font() if with_font else None
    prompt = "Quotes ' colons : percent %{pts} backslash \\ and ünïcödé"
    out = render_clip(prompt, tmp_path / "clip.mp4", VideoSpec(seconds=1.5, fps=24), font=font)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert (frames, seconds) == (36, 1.5)
    assert not list(tmp_path.glob(".*partial*"))


def test_a_configured_font_file_is_preferred(tmp_path: Path) -> None:
    font = tmp_path / "Custom.ttf"
    font.write_bytes(b"not really a font")
    assert find_font(str(font)) == font


def test_the_local_provider_reports_processing_then_completed_with_a_served_file(
    tmp_path: Path,
) -> None:
    inbox = Inbox()
    provider = _provider(tmp_path, inbox)
    job = _job()
    try:
        provider_job_id = provider.submit(job)
        assert provider.pending() == 1
        assert inbox.events == []
        assert provider.run_pending() == 1
        assert [event["status"] for event in inbox.events] == ["processing", "completed"]
        assert {event["provider_job_id"] for event in inbox.events} == {provider_job_id}
        assert len(set(inbox.ids)) == 2
        url = str(inbox.events[1]["download_url"])
        target = tmp_path / "fetched.mp4"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            target.write_bytes(response.read())
        assert imageio_ffmpeg.count_frames_and_secs(str(target))[1] == 1.0
    finally:
        provider.close()


def test_resubmitting_a_job_renders_it_once(tmp_path: Path) -> None:
    inbox = Inbox()
    provider = _provider(tmp_path, inbox)
    job = _job()
    try:
        assert provider.submit(job) == provider.submit(job)
        assert provider.run_pending() == 1
        provider.submit(job)
        assert provider.run_pending() == 0
    finally:
        provider.close()


def test_a_render_error_is_reported_as_failed(tmp_path: Path) -> None:
    def broken(prompt: str, output: Path, spec: VideoSpec) -> Path:
        raise DirectorStudioError("disk full")

    inbox = Inbox()
    provider = _provider(tmp_path, inbox, renderer=broken)
    try:
        provider.submit(_job())
        provider.run_pending()
    finally:
        provider.close()
    assert [event["status"] for event in inbox.events] == ["processing", "failed"]
    assert "disk full" in str(inbox.events[1]["error"])


def test_the_background_worker_renders_submitted_jobs(tmp_path: Path) -> None:
    inbox = Inbox()
    provider = _provider(tmp_path, inbox).start()
    try:
        provider.submit(_job())
        assert inbox.completed.wait(timeout=30)
    finally:
        provider.close()
    assert [event["status"] for event in inbox.events] == ["processing", "completed"]


def test_an_unreachable_webhook_does_not_stop_the_provider(tmp_path: Path) -> None:
    def down(url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        raise RenderUnavailableError("connection refused")

    provider = LocalRenderProvider(
        files=FileServer(tmp_path / "out").start(), webhook_secret=SECRET, post=down
    )
    try:
        provider.submit(_job())
        assert provider.run_pending() == 1
    finally:
        provider.close()


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (HttpReply(503, b""), RenderUnavailableError),
        (HttpReply(429, b""), RenderUnavailableError),
        (HttpReply(200, b"not json"), RenderUnavailableError),
        (HttpReply(200, b'{"provider_job_id": ""}'), RenderUnavailableError),
        (HttpReply(400, b"{}"), RenderRejectedError),
        (HttpReply(401, b"{}"), RenderRejectedError),
    ],
)
def test_the_http_provider_classifies_answers(reply: HttpReply, error: type[Exception]) -> None:
    provider = HttpRenderProvider("http://render.test/jobs", SECRET, post=lambda *_: reply)
    with pytest.raises(error):
        provider.submit(_job())


def test_the_http_provider_signs_its_request_and_returns_the_service_id() -> None:
    seen: list[tuple[bytes, Mapping[str, str]]] = []

    def service(url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        seen.append((body, headers))
        return HttpReply(201, b'{"provider_job_id": "svc-1"}')

    job = _job()
    provider = HttpRenderProvider(
        "http://render.test/jobs", SECRET, post=service, clock=lambda: NOW
    )
    assert provider.submit(job) == "svc-1"
    body, headers = seen[0]
    assert webhook_signing.verify(SECRET, body, headers, clock=lambda: NOW) == str(job.job_id)
    assert json.loads(body) == {
        "job_id": str(job.job_id),
        "prompt": job.prompt,
        "callback_url": job.callback_url,
        "duration_seconds": 1.0,
    }


def test_the_urllib_transport_refuses_other_schemes_and_reports_unreachable_hosts() -> None:
    with pytest.raises(RenderRejectedError):
        urllib_post("file:///etc/passwd", b"", {})
    with pytest.raises(RenderUnavailableError):
        urllib_post(f"http://127.0.0.1:{free_port()}/", b"{}", {}, timeout=5)


def test_a_public_url_replaces_the_file_servers_address_in_download_links(tmp_path: Path) -> None:
    inbox = Inbox()
    provider = _provider(tmp_path, inbox, public_url="http://api.test/storage/v1/object/public/r/")
    job = _job()
    try:
        provider.submit(job)
        provider.run_pending()
    finally:
        provider.close()
    assert inbox.events[-1]["download_url"] == (
        f"http://api.test/storage/v1/object/public/r/{job.job_id}.mp4"
    )
    assert (tmp_path / "out" / f"{job.job_id}.mp4").is_file()
