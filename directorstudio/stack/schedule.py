"""The rollup schedule: ``public.run_due_rollups()`` as ``service_role`` every few minutes.

Hosted, a scheduler (pg_cron or Cloud Scheduler calling ``telemetry_rollup``) does this; locally
the stack runs it itself, with the same role and claims a service-key rpc call would have.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

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
