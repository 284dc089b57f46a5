"""What a running stack records in its data directory, for ``status``, ``keys`` and ``seed``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "stack.json"
DEFAULT_DATA_DIR = Path(".directorstudio")


@dataclass(frozen=True)
class StackState:
    """Where a started stack listens."""

    pid: int
    api_url: str
    database_url: str
    functions_url: str | None

    def write(self, data_dir: Path) -> None:
        path = data_dir / STATE_FILE
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self), handle, indent=2)


def read_state(data_dir: Path) -> StackState | None:
    """The state the last ``up`` in ``data_dir`` recorded, if any."""
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return StackState(
        pid=int(raw["pid"]),
        api_url=str(raw["api_url"]),
        database_url=str(raw["database_url"]),
        functions_url=raw.get("functions_url"),
    )


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
