"""``directorstudio app --with-stack``: the local stack in the background (its log in
``<data-dir>/stack.log``) and the app on it in this terminal; quitting the app stops the stack
the way Ctrl-C does, so every committed change is kept."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.console import Console

from directorstudio.app.config import resolve
from directorstudio.errors import DirectorStudioError, ErrorCode

STACK_LOG = "stack.log"
START_DEADLINE = 180.0
STOP_DEADLINE = 60.0
PR_SET_PDEATHSIG = 1

console = Console(stderr=True)


class StackStartError(DirectorStudioError):
    """The local stack did not come up."""

    code = ErrorCode.UNAVAILABLE


def _stop_with_parent() -> None:
    """In the stack's process: be interrupted (a clean stop) if the app's process dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/auth/v1/health", timeout=2):  # noqa: S310
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_stack(data_dir: Path, port: int, db_port: int) -> subprocess.Popen[bytes]:
    """Start ``directorstudio up`` with its output in ``<data-dir>/stack.log`` and wait
    (bounded) until it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / STACK_LOG
    command = [
        sys.executable, "-m", "directorstudio.cli", "up", "--port", str(port),
        "--db-port", str(db_port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    with log.open("ab") as handle:
        process = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the terminal's Ctrl-C is the app's, not the stack's
            preexec_fn=_stop_with_parent,  # no threads exist yet in this process
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_DEADLINE
    with console.status(f"starting the local stack (log: {log})"):
        while time.monotonic() < deadline:
            try:
                code = process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if _answers(url):
                    return process
                continue
            raise StackStartError(f"the local stack exited ({code}); see {log}")
    stop_stack(process)
    raise StackStartError(f"the local stack did not answer in time; see {log}")


def stop_stack(process: subprocess.Popen[bytes]) -> int:
    """Interrupt the stack (fast shutdown, data kept) and wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def run_with_stack(data_dir: Path, *, port: int, db_port: int, app_args: list[str]) -> int:
    """Start the stack, run the app on it, stop the stack when the app ends."""
    from directorstudio.app.main import DirectorStudioApp

    process = start_stack(data_dir, port, db_port)
    try:
        email = _option(app_args, "--email")
        cache_dir = _option(app_args, "--cache-dir")
        config = resolve(
            url=f"http://127.0.0.1:{port}",
            anon_key=None,
            data_dir=data_dir,
            cache_dir=Path(cache_dir) if cache_dir else None,
            email=email,
        )
        DirectorStudioApp(config).run()
    finally:
        console.print("stopping the local stack")
        code = stop_stack(process)
    console.print(f"stopped; all data kept in {data_dir} (stack log: {data_dir / STACK_LOG})")
    return 0 if code in (0, -signal.SIGINT) else code


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None
