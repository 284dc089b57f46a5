"""The schedule: rollups every few minutes, and resubmission of clip jobs left waiting.

Hosted, a scheduler (pg_cron or Cloud Scheduler calling ``telemetry_rollup`` and
``retry_dispatch``) does this; locally the stack runs ``public.run_due_rollups()`` itself, with
the role and claims a service-key rpc call would have, and calls ``retry_dispatch`` like the
scheduler would.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import psycopg

from directorstudio.stack.db import ConnectionPool

log = logging.getLogger("directorstudio.stack.schedule")
SERVICE_CLAIMS = json.dumps({"role": "service_role"})


async def run_once(pool: ConnectionPool) -> Any:
    """One rollup run; its result, or None when it failed (logged)."""
    try:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "SELECT set_config('role', 'service_role', true),"
                " set_config('request.jwt.claims', %s, true)",
                (SERVICE_CLAIMS,),
            )
            cursor = await conn.execute("SELECT public.run_due_rollups()")
            row = await cursor.fetchone()
    except psycopg.Error as error:
        log.warning("rollups failed: %s", error)
        return None
    result = row[0] if row else None
    log.info("rollups ran: %s", json.dumps(result))
    return result


async def run_periodically(pool: ConnectionPool, interval: float) -> None:
    """Run the rollups now and then every ``interval`` seconds until cancelled."""
    while True:
        await run_once(pool)
        await asyncio.sleep(interval)


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
                    headers={"X-DirectorStudio-Scheduler-Secret": scheduler_secret},
                ) as reply:
                    body = await reply.text()
                    if reply.status >= 400:
                        log.warning("retry_dispatch answered %s: %s", reply.status, body)
            except aiohttp.ClientError as error:
                log.warning("retry_dispatch failed: %s", error)
            await asyncio.sleep(interval)
