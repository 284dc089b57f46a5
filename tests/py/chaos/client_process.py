"""Running the client subprocess (``device_process``): start, kill mid-push, restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directorstudio_client import SQLiteStorage
from tests.support.fault_proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[3]
PROCESS_TIMEOUT = 180.0


@dataclass
class ClientProcess:
    """One app install in a process of its own; its cache outlives every process."""

    name: str
    work: Path
    user_id: str
    client_id: str
    spec: dict[str, Any]

    @property
    def cache(self) -> Path:
        return Path(self.spec["cache"])

    @property
    def spec_path(self) -> Path:
        return self.work / f"{self.name}.json"

    def _log(self, mode: str) -> Path:
        return self.work / f"{self.name}-{mode}.log"

    def start(self, mode: str) -> subprocess.Popen[bytes]:
        self.spec_path.write_text(json.dumps(self.spec))
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'client'}"}
        command = [sys.executable, "-m", "tests.py.chaos.device_process", str(self.spec_path), mode]
        with self._log(mode).open("ab") as log:
            return subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def run(self, mode: str) -> str | None:
        """Run to the end (bounded); a violation when it did not settle."""
        process = self.start(mode)
        try:
            code = process.wait(timeout=PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            code = -1
        if code == 0:
            return None
        return (
            f"the client process ({mode}) ended with {code}:\n{self._log(mode).read_text()[-3000:]}"
        )

    def kill_mid_push(self, proxy: FaultProxy) -> str | None:
        """Write, then ``kill -9`` while the first push is held after the server answered."""
        marker = self.client_id.encode()
        hold = proxy.hold_next(lambda f: f.path.endswith("/sync_push") and marker in f.body)
        process = self.start("write")
        try:
            reached = hold.reached.wait(PROCESS_TIMEOUT)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            proxy.release()
        return None if reached else f"{self.name} never pushed"

    def storage(self) -> SQLiteStorage:
        return SQLiteStorage(self.cache)
