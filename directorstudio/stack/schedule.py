"""The rollup schedule: ``run_due_rollups`` of the HTTP functions, every few minutes.

Each run is a short subprocess with the functions' environment, so it reads the same settings
(database URL, keys) as the functions themselves and a failing run never harms the gateway.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Mapping

from directorstudio import paths

log = logging.getLogger("directorstudio.stack.schedule")
ROLLUP_MODULE = "directorstudio.server"


def rollups_available() -> bool:
    """Whether this checkout has the rollup job."""
    return (paths.PACKAGE_DIR / "server" / "__init__.py").exists()


async def run_once(env: Mapping[str, str]) -> bool:
    """One rollup run in a subprocess; whether it succeeded."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "directorstudio.stack.schedule",
        env={**os.environ, **env, "PYTHONPATH": str(paths.PROJECT_ROOT)},
        cwd=str(paths.PROJECT_ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        log.warning("rollups failed: %s", output.decode(errors="replace").strip()[-500:])
        return False
    log.info("rollups ran: %s", output.decode(errors="replace").strip()[-200:])
    return True


async def run_periodically(env: Mapping[str, str], interval: float) -> None:
    """Run the rollups now and then every ``interval`` seconds until cancelled."""
    if not rollups_available():
        log.warning("rollup job not found; the schedule is idle")
        return
    while True:
        await run_once(env)
        await asyncio.sleep(interval)


def main() -> int:
    """Entry point of one run: call ``run_due_rollups()`` with settings from the environment."""
    module = importlib.import_module(ROLLUP_MODULE)
    result = module.run_due_rollups()
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
