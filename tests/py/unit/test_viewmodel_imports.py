"""The ViewModels belong to no UI toolkit and, like the rest of the client, to no server code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, sys
import directorstudio_client.viewmodels
print(json.dumps(sorted(sys.modules)))
"""
UI_TOOLKITS = {"textual", "textual_serve", "rich", "tkinter", "PyQt5", "PyQt6", "PySide6"}


def loaded_modules() -> list[str]:
    output = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}{':'}{ROOT / 'client'}", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return list(json.loads(output))


def test_importing_the_viewmodels_loads_no_ui_toolkit():
    loaded = loaded_modules()
    assert "directorstudio_client.viewmodels.projects" in loaded
    assert {m.split(".")[0] for m in loaded} & UI_TOOLKITS == set()


def test_importing_the_viewmodels_loads_no_server_module_only_the_shared_contracts():
    server = [
        m
        for m in loaded_modules()
        if m.split(".")[0] == "directorstudio"
        and m not in ("directorstudio", "directorstudio.contracts")
        and not m.startswith("directorstudio.contracts.")
    ]
    assert server == []
