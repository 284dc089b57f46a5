"""The safety net of clip dispatch: resubmission of clip jobs left waiting.

New jobs are dispatched at once (directorstudio.stack.dispatch_listener); this retries those
whose dispatch failed or whose dispatcher stopped before the render provider accepted them (their
lease expired), calling ``retry_dispatch`` as a scheduler would. The rollups are not run from
here: pg_cron runs them inside PostgreSQL (docs/rollups.md).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

log = logging.getLogger("directorstudio.stack.schedule")
SCHEDULER_HEADER = "X-DirectorStudio-Scheduler-Secret"


async def retry_dispatch_periodically(
    functions_url: str, scheduler_secret: str, interval: float
) -> None:
    """At start and then every ``interval`` seconds, ask ``retry_dispatch`` to resubmit the jobs
    left waiting (e.g. by a stop before the render provider accepted them)."""
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                async with session.post(
                    f"{functions_url}/functions/v1/retry_dispatch",
                    json={},
                    headers={SCHEDULER_HEADER: scheduler_secret},
                ) as reply:
                    body = await reply.text()
                    if reply.status >= 400:
                        log.warning("retry_dispatch answered %s: %s", reply.status, body)
            except aiohttp.ClientError as error:
                log.warning("retry_dispatch failed: %s", error)
            await asyncio.sleep(interval)
