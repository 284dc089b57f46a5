"""Code shared by the HTTP functions: configuration, auth, database access, errors, rendering."""

from __future__ import annotations

from typing import Any


def run_due_rollups() -> Any:
    """Run ``public.run_due_rollups()`` once, with settings from the environment (a scheduler
    job, e.g. the local stack's timer); its result."""
    from directorstudio.server.jobs import run_due_rollups as run

    return run()
