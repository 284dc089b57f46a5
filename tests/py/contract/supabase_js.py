"""Runs the supabase-js scenario scripts (``js/``) with the Node on this machine."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"
RUNNER = JS_DIR / "run.mjs"
RUN_TIMEOUT = 300


@functools.cache
def node_command() -> tuple[str, ...]:
    """``node``, with ``--experimental-websocket`` when this Node has no WebSocket global.

    supabase-js's realtime client needs the global: Node 22 and later have it, Node 20 only
    behind the flag.
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed (scripts/setup.sh installs it)")
    probe = subprocess.run(
        [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return (node,) if probe.returncode == 0 else (node, "--experimental-websocket")


def scenario_scripts() -> set[str]:
    """The names of the scenarios written for supabase-js."""
    return {path.stem for path in JS_DIR.glob("*.mjs") if path != RUNNER}


def run_scenarios(url: str, anon_key: str, names: list[str]) -> dict[str, Any]:
    """Run the named scenarios in one Node process; what each observed, by name."""
    env = {**os.environ, "SUPABASE_URL": url, "SUPABASE_ANON_KEY": anon_key}
    done = subprocess.run(
        [*node_command(), str(RUNNER), *names],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=RUN_TIMEOUT,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"run.mjs exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    observed: dict[str, Any] = json.loads(lines[-1])
    return observed
