"""``directorstudio app --web`` serves the app in a browser: the page, and the websocket that
runs the app (textual-serve)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from directorstudio.pgcluster import free_port
from tests.support.stack_process import ROOT

pytestmark = pytest.mark.anyio
START_LIMIT = 60.0


def _page(url: str, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=5).raise_for_status().text
        except httpx.HTTPError:
            try:
                process.wait(timeout=0.2)  # waits on the server, not a fixed pause
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError("directorstudio app --web exited") from None
    raise AssertionError("directorstudio app --web did not answer")


async def test_the_app_is_served_in_a_browser_page_with_its_websocket(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "directorstudio.cli", "app", "--web"]
    command += ["--web-port", str(port), "--url", f"http://127.0.0.1:{free_port()}"]
    command += ["--anon-key", "anon", "--cache-dir", str(tmp_path / "cache")]
    command += ["--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        page = await asyncio.to_thread(_page, f"http://127.0.0.1:{port}/", process)
        assert "DirectorStudio" in page
        socket_url = f"ws://127.0.0.1:{port}/ws"
        assert socket_url in page
        seen = b""
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{socket_url}?width=100&height=30") as websocket,
        ):
            async with asyncio.timeout(START_LIMIT):
                while b"Continue without an account" not in seen:
                    message = await websocket.receive()
                    if message.type == aiohttp.WSMsgType.BINARY:
                        seen += message.data
                    elif message.type == aiohttp.WSMsgType.TEXT:
                        seen += message.data.encode()
                    else:
                        raise AssertionError(f"the websocket ended: {message.type}")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
