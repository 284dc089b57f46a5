"""``/functions/v1/<name>``: the HTTP functions, served by functions-framework in a subprocess.

The gateway passes method, body, query, ``Authorization``/``apikey`` and the other end-to-end
headers through and hands the function's status, headers and body back unchanged. A body over
the gateway's limit (directorstudio.server.limits) is refused before it is forwarded, as the
functions refuse one: JSON ``payload_too_large`` (413).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from aiohttp import web

from directorstudio import paths
from directorstudio.errors import DirectorStudioError, ErrorCode
from directorstudio.stack.common import CONFIG_KEY, json_response, read_body

DISPATCHER_SOURCE = paths.PACKAGE_DIR / "server" / "dispatcher.py"
DISPATCHER_TARGET = "route"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
SESSION_KEY = web.AppKey("functions_session", aiohttp.ClientSession)


class FunctionsStartError(DirectorStudioError):
    """The functions server did not come up."""

    code = ErrorCode.UNAVAILABLE


def available() -> bool:
    """Whether this checkout has the HTTP functions."""
    return DISPATCHER_SOURCE.exists()


class FunctionsServer:
    """functions-framework serving the dispatcher target on a local port."""

    def __init__(self, port: int, env: Mapping[str, str], log_file: Path) -> None:
        self.port = port
        self.env = dict(env)
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers."""
        command = [
            sys.executable,
            "-m",
            "functions_framework",
            "--target",
            DISPATCHER_TARGET,
            "--source",
            str(DISPATCHER_SOURCE),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **self.env, "PYTHONPATH": str(paths.PROJECT_ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(paths.PROJECT_ROOT),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FunctionsStartError(f"the functions server exited; see {self.log_file}")
            try:
                urllib.request.urlopen(f"{self.url}/functions/v1/", timeout=1)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise FunctionsStartError(f"the functions server did not start; see {self.log_file}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def proxy(request: web.Request) -> web.StreamResponse:
    """Forward one function call to the functions server."""
    config = request.app[CONFIG_KEY]
    if config.functions_url is None:
        return json_response(
            {"code": "NOT_FOUND", "message": "Requested function was not found"}, status=404
        )
    target = f"{config.functions_url}/functions/v1/{request.match_info['name']}"
    headers = {
        key: value for key, value in request.headers.items() if key.lower() not in HOP_BY_HOP
    }
    try:
        body = await read_body(request)
    except DirectorStudioError as error:
        return json_response(error.to_json(), status=error.http_status)
    session = request.app[SESSION_KEY]
    try:
        async with session.request(
            request.method,
            target,
            params=request.query,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            content = await upstream.read()
            reply_headers = {
                key: value
                for key, value in upstream.headers.items()
                if key.lower() not in HOP_BY_HOP and key.lower() not in ("date", "server")
            }
            return web.Response(body=content, status=upstream.status, headers=reply_headers)
    except aiohttp.ClientError:
        return json_response(
            {"code": "BOOT_ERROR", "message": "Function failed to start (please check logs)"},
            status=503,
        )


async def _session_context(app: web.Application):  # type: ignore[no-untyped-def]
    app[SESSION_KEY] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))
    yield
    await app[SESSION_KEY].close()


def add_routes(app: web.Application) -> None:
    """Register the functions proxy on ``app``."""
    app.cleanup_ctx.append(_session_context)
    app.router.add_route("*", "/functions/v1/{name:.+}", proxy)
