"""``directorstudio smoke`` as an operator runs it: a subprocess against a started local stack.

Every step passes and the test user is removed with the service key; without the service key the
user is left in place and the clean-up is skipped; a wrong anon key fails at the sign-up step
with a non-zero exit code. Behind a proxy that answers like a hosted project requiring email
confirmation and offering no realtime, the smoke signs in anonymously and sees the clip complete
by polling.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from directorstudio.pgcluster import free_port
from tests.support.cluster import postgres_reachable_dir
from tests.support.stack_process import ROOT, StackPorts, StackProcess, start_stack

STEPS = (
    "sign up",
    "library renders",
    "create project",
    "create scene",
    "submit clip",
    "clip completed",
    "telemetry",
    "clean up",
)


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    with postgres_reachable_dir("directorstudio-smoke-command-") as base:
        started = start_stack(base / "stack", StackPorts.free())
        try:
            yield started
        finally:
            assert started.stop() == 0, started.log.read_text()


def smoke(stack: StackProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "directorstudio.cli", "smoke", "--url", stack.url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def users(stack: StackProcess) -> int:
    status = stack.cli("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    return int(json.loads(status.stdout)["users"])


def row_of(output: str, step: str) -> str:
    """The table row of ``step`` (its first line)."""
    return next(line for line in output.splitlines() if line.startswith(f"│ {step} "))


def test_every_smoke_step_passes_against_the_local_stack_and_the_test_user_is_removed(
    stack: StackProcess,
) -> None:
    keys = stack.keys()
    before = users(stack)
    result = smoke(stack, "--anon-key", keys["anon_key"], "--service-key", keys["service_role_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    for step in STEPS:
        row = row_of(result.stdout, step)
        assert " ok " in row, row
        assert int(row.split("│")[2]) >= 0
    assert "seen through realtime" in result.stdout
    assert "smoke passed" in result.stdout
    assert users(stack) == before


def test_without_the_service_key_the_clean_up_is_skipped_and_the_user_stays(
    stack: StackProcess,
) -> None:
    before = users(stack)
    result = smoke(stack, "--anon-key", stack.keys()["anon_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert " skipped " in row_of(result.stdout, "clean up")
    assert "no --service-key" in result.stdout
    assert users(stack) == before + 1


def test_a_wrong_anon_key_fails_the_sign_up_step_with_a_non_zero_exit(
    stack: StackProcess,
) -> None:
    result = smoke(stack, "--anon-key", "not-the-anon-key")
    assert result.returncode == 1, result.stdout + result.stderr
    assert " failed " in row_of(result.stdout, "sign up")
    assert "Invalid API key" in result.stdout
    assert " skipped " in row_of(result.stdout, "telemetry")
    assert "smoke failed at: sign up" in result.stdout


HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


def confirmation_required_app(upstream: str) -> web.Application:
    """Forwards to ``upstream``, except that an email sign-up is answered as a project that
    requires email confirmation answers (the user object, no session) and realtime is absent."""

    async def forward(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/realtime/"):
            return web.Response(status=404)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, upstream + request.path_qs, headers=headers, data=body
            ) as reply,
        ):
            payload = await reply.read()
            signed_up = request.path == "/auth/v1/signup" and reply.status == 200
            if signed_up and b'"email"' in body:
                payload = json.dumps(json.loads(payload)["user"]).encode()
            return web.Response(
                status=reply.status,
                body=payload,
                content_type=reply.content_type,
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@pytest.fixture
def hosted_like(stack: StackProcess) -> Iterator[str]:
    """The proxy's URL, served from a background event loop."""
    port = free_port()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(confirmation_required_app(stack.url))
    asyncio.run_coroutine_threadsafe(runner.setup(), loop).result(timeout=30)
    site = web.TCPSite(runner, "127.0.0.1", port)
    asyncio.run_coroutine_threadsafe(site.start(), loop).result(timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_where_email_sign_up_needs_confirmation_the_smoke_signs_in_anonymously_and_polls(
    stack: StackProcess, hosted_like: str
) -> None:
    keys = stack.keys()
    before = users(stack)
    result = subprocess.run(
        [sys.executable, "-m", "directorstudio.cli", "smoke", "--url", hosted_like,
         "--anon-key", keys["anon_key"], "--service-key", keys["service_role_key"]],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "anonymous user" in row_of(result.stdout, "sign up")
    assert "email sign-up needs" in result.stdout
    assert "polling" in row_of(result.stdout, "clip completed")
    assert "deleted 2 user(s)" in row_of(result.stdout, "clean up")
    assert users(stack) == before
