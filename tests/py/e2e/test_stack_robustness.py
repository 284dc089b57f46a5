"""The local stack as a process: one per data directory, a password on its database, pooled
connections that survive a PostgreSQL restart, bursts without 5xx, and nothing left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import psycopg
import pytest

from directorstudio.pgcluster import LocalCluster
from directorstudio.stack.stack import DURABLE_SETTINGS, cluster_dir
from tests.support.cluster import postgres_reachable_dir
from tests.support.stack_process import ROOT, StackPorts, StackProcess, start_stack

BURST = 64
EXIT_DEADLINE = 20.0
POLL_INTERVAL = 0.1
DATA_PREFIX = "directorstudio-robust-"


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    with postgres_reachable_dir(DATA_PREFIX) as base:
        started = start_stack(base / "stack", StackPorts.free())
        try:
            yield started
        finally:
            started.stop()


def _cluster(stack: StackProcess) -> LocalCluster:
    return LocalCluster(
        cluster_dir(stack.data_dir), stack.ports.db, password=stack.keys()["db_password"]
    )


def _sign_up(stack: StackProcess) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/auth/v1/signup",
        json={},
        headers={"apikey": stack.keys()["anon_key"]},
        timeout=30,
    )


def _functions_processes(data_dir: Path) -> list[int]:
    """Pids of functions servers started for ``data_dir`` (their log file names it)."""
    marker = "directorstudio.stack.functions_process"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in command and str(data_dir).encode() in environ:
            found.append(int(entry.name))
    return found


def _wait_until_gone(data_dir: Path) -> list[int]:
    deadline = time.monotonic() + EXIT_DEADLINE
    while (left := _functions_processes(data_dir)) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    return left


def test_a_second_up_on_the_same_data_directory_is_refused_and_the_first_keeps_serving(
    stack: StackProcess,
) -> None:
    other = StackPorts.free()
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "directorstudio.cli",
            "up",
            "--port",
            str(other.api),
            "--db-port",
            str(other.db),
            "--data-dir",
            str(stack.data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode != 0
    assert "already running" in second.stderr
    assert f"pid {stack.process.pid}" in second.stderr
    assert stack.process.poll() is None
    assert _sign_up(stack).status_code == 200


def test_the_stack_database_refuses_tcp_connections_without_its_password(
    stack: StackProcess,
) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{stack.ports.db}/postgres").close()
    with psycopg.connect(_cluster(stack).url()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert stack.keys()["db_password"] in stack.cli("keys").stdout


def test_after_postgresql_restarts_under_a_running_gateway_the_next_call_succeeds(
    stack: StackProcess,
) -> None:
    for _ in range(3):
        assert _sign_up(stack).status_code == 200
    cluster = _cluster(stack)
    cluster.stop()
    cluster.start(DURABLE_SETTINGS)
    assert _sign_up(stack).status_code == 200


def test_a_burst_of_concurrent_function_calls_gets_no_server_error(stack: StackProcess) -> None:
    session = _sign_up(stack).json()
    headers = {
        "apikey": stack.keys()["anon_key"],
        "Authorization": f"Bearer {session['access_token']}",
    }

    async def burst() -> list[int]:
        async with aiohttp.ClientSession() as client:

            async def call(n: int) -> int:
                body = {
                    "batch_id": f"00000000-0000-4000-8000-{n:012d}",
                    "events": [{"element": "burst", "attempts": 1, "successes": 1}],
                }
                async with client.post(
                    f"{stack.url}/functions/v1/telemetry_batch", json=body, headers=headers
                ) as reply:
                    await reply.read()
                    return reply.status

            return await asyncio.gather(*(call(n) for n in range(BURST)))

    statuses = asyncio.run(burst())
    assert [status for status in statuses if status >= 500] == []
    assert all(status == 200 for status in statuses), statuses


def test_stopping_the_stack_leaves_no_functions_process_behind() -> None:
    with postgres_reachable_dir(DATA_PREFIX) as base:
        started = start_stack(base / "stack", StackPorts.free())
        try:
            assert _functions_processes(started.data_dir)
            assert started.stop() == 0
            assert _wait_until_gone(started.data_dir) == []
        finally:
            started.stop()


def test_a_killed_stack_leaves_no_functions_process_behind() -> None:
    with postgres_reachable_dir(DATA_PREFIX) as base:
        started = start_stack(base / "stack", StackPorts.free())
        cluster = _cluster(started)
        try:
            assert _functions_processes(started.data_dir)
            os.kill(started.process.pid, signal.SIGKILL)
            started.process.wait(timeout=EXIT_DEADLINE)
            assert _wait_until_gone(started.data_dir) == []
        finally:
            cluster.stop()
