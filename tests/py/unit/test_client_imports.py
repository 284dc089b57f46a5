"""The client library stands alone: it never imports server code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, sys
import directorstudio_client
import directorstudio_client.transport.postgres
import directorstudio_client.transport.supabase
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'directorstudio')))
"""


def test_importing_the_client_loads_no_server_module_only_the_shared_contracts():
    output = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}{':'}{ROOT / 'client'}", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    loaded = json.loads(output)
    assert "directorstudio.contracts.errors" in loaded
    assert [
        m
        for m in loaded
        if m not in ("directorstudio", "directorstudio.contracts")
        and not m.startswith("directorstudio.contracts.")
    ] == []
