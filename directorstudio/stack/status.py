"""``directorstudio status``: is the stack up, is the database reachable, how is the queue."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from directorstudio.stack.keys import load
from directorstudio.stack.state import process_alive, read_state

QUEUE_QUERY = """
SELECT
    count(*) FILTER (WHERE status = 'queued') AS queued,
    count(*) FILTER (WHERE status = 'processing') AS processing,
    count(*) FILTER (WHERE status = 'completed') AS completed,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'canceled') AS canceled,
    count(*) FILTER (WHERE status = 'queued' AND provider_job_id IS NULL) AS awaiting_dispatch,
    extract(epoch FROM now() - min(submitted_at) FILTER (WHERE status = 'queued'))::int
        AS oldest_queued_seconds,
    count(*) FILTER (WHERE status = 'failed' AND updated_at > now() - interval '1 hour')
        AS failed_last_hour
FROM public.clip_jobs
"""


@dataclass
class StatusReport:
    """Health of each part; ``healthy`` when the stack serves and the database answers."""

    stack: str = "not running"
    api_url: str | None = None
    database: str = "unknown"
    queue: dict[str, Any] = field(default_factory=dict)
    users: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.stack == "running" and self.database == "ok"


def _probe_gateway(api_url: str, anon_key: str | None) -> str | None:
    request = urllib.request.Request(  # noqa: S310 - local URL
        f"{api_url}/auth/v1/health", headers={"apikey": anon_key or ""}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as reply:  # noqa: S310
            json.loads(reply.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as error:
        return f"gateway at {api_url} does not answer: {error}"
    return None


def collect(data_dir: Path) -> StatusReport:
    """Look at the stack recorded in ``data_dir``."""
    report = StatusReport()
    state = read_state(data_dir)
    if state is None or not process_alive(state.pid):
        report.problems.append(
            f"no running stack in {data_dir} (start it with `directorstudio up`)"
        )
        return report
    report.api_url = state.api_url
    stack_keys = load(data_dir)
    problem = _probe_gateway(state.api_url, stack_keys.anon_key if stack_keys else None)
    if problem:
        report.stack = "not answering"
        report.problems.append(problem)
    else:
        report.stack = "running"
    try:
        with psycopg.connect(state.database_url, connect_timeout=3) as conn:
            row = conn.execute(QUEUE_QUERY).fetchone()
            assert row is not None
            names = [
                "queued",
                "processing",
                "completed",
                "failed",
                "canceled",
                "awaiting_dispatch",
                "oldest_queued_seconds",
                "failed_last_hour",
            ]
            report.queue = dict(zip(names, row, strict=True))
            users = conn.execute("SELECT count(*) FROM auth.users").fetchone()
            report.users = int(users[0]) if users else 0
        report.database = "ok"
    except psycopg.Error as error:
        report.database = "unreachable"
        report.problems.append(f"database: {error}")
    if report.queue.get("failed_last_hour"):
        report.problems.append(
            f"{report.queue['failed_last_hour']} clip job(s) failed in the last hour"
        )
    return report
