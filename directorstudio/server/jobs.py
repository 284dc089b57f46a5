"""Scheduled jobs run outside a request, with settings from the environment."""

from __future__ import annotations

from typing import Any

from directorstudio.server.config import Settings
from directorstudio.server.db import Database


def run_due_rollups(settings: Settings | None = None) -> Any:
    """Call ``public.run_due_rollups()`` as ``service_role``; its result (yesterday and today)."""
    settings = settings or Settings.from_env()
    db = Database.from_url(settings.require("database_url"), size=1)
    try:
        return db.call_as_service("run_due_rollups", {}, shape="value")
    finally:
        db.close()
