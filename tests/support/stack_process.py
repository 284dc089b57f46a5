"""``directorstudio up`` as a subprocess on free ports, for the process-level smoke test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from directorstudio.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 120.0
POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class StackPorts:
    """The ports one stack uses; a restart reuses them."""

    api: int
    db: int

    @classmethod
    def free(cls) -> StackPorts:
        return cls(free_port(), free_port())


@dataclass
class StackProcess:
    """A started ``directorstudio up``."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    ports: StackPorts
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def keys(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads((self.data_dir / "keys.json").read_text())
        return loaded

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another ``directorstudio`` command against this stack's data directory."""
        return subprocess.run(
            [sys.executable, "-m", "directorstudio.cli", *args, "--data-dir", str(self.data_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C (SIGINT) and wait for a clean exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/auth/v1/health", timeout=2):  # noqa: S310
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_stack(data_dir: Path, ports: StackPorts) -> StackProcess:
    """Start the stack and wait (bounded) until it has printed ready and answers."""
    log = data_dir.parent / f"{data_dir.name}-up.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "directorstudio.cli",
                "up",
                "--port",
                str(ports.api),
                "--db-port",
                str(ports.db),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    stack = StackProcess(process, data_dir, ports, log)
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"directorstudio up exited early:\n{log.read_text()}")
        if "ready" in log.read_text() and _answers(stack.url):
            return stack
        time.sleep(POLL_INTERVAL)
    stack.stop()
    raise RuntimeError(f"directorstudio up did not become ready:\n{log.read_text()}")
