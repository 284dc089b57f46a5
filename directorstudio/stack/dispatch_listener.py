"""The local stack's Database Webhook: every new clip job goes to ``dispatch_clip`` at once.

A trigger on ``clip_jobs`` announces each new job on the channel ``clip_dispatch`` when its
transaction commits, whichever way it was created (the ``enqueue_clip`` function, the rpc
``enqueue_clip_job``, the client outbox through ``sync_push``). This listener forwards each
announcement to the functions' ``dispatch_clip`` entry point, as a Supabase Database Webhook on the
same insert does when hosted (docs/functions.md). The trigger notifies only once a listener has
announced itself in ``private.notify_listeners`` (a NOTIFY serialises the commits of every
notifying transaction), which this one does before it reports listening. A notification missed
while disconnected is picked up by the scheduled ``retry_dispatch``.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import psycopg

from directorstudio.stack.schedule import SCHEDULER_HEADER

log = logging.getLogger("directorstudio.stack.dispatch")
CHANNEL = "clip_dispatch"
CONCURRENCY = 8


class DispatchListener:
    """LISTENs on ``clip_dispatch`` and POSTs each job id to ``dispatch_clip``."""

    def __init__(
        self,
        database_url: str,
        functions_url: str,
        scheduler_secret: str,
        *,
        reconnect_delay: float = 1.0,
    ) -> None:
        self.database_url = database_url
        self.target = f"{functions_url}/functions/v1/dispatch_clip"
        self.scheduler_secret = scheduler_secret
        self.reconnect_delay = reconnect_delay
        self.listening = asyncio.Event()
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Listen (reconnecting after a lost connection) until cancelled."""
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                while True:
                    try:
                        await self._listen(session)
                    except psycopg.Error as error:
                        log.warning("dispatch listener lost its connection: %s", error)
                    self.listening.clear()
                    await asyncio.sleep(self.reconnect_delay)
            finally:
                for task in list(self._pending):
                    task.cancel()
                await asyncio.gather(*self._pending, return_exceptions=True)

    async def _listen(self, session: aiohttp.ClientSession) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            # New jobs are announced only once a listener is (sql/functions/32_clip_dispatch.sql).
            await conn.execute(
                "INSERT INTO private.notify_listeners (channel) VALUES (%s) ON CONFLICT DO NOTHING",
                (CHANNEL,),
            )
            self.listening.set()
            async for notify in conn.notifies():
                task = asyncio.create_task(self._forward(session, notify.payload))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def _forward(self, session: aiohttp.ClientSession, job_id: str) -> None:
        async with self._slots:
            try:
                async with session.post(
                    self.target,
                    json={"job_id": job_id},
                    headers={SCHEDULER_HEADER: self.scheduler_secret},
                ) as reply:
                    if reply.status >= 400:
                        log.warning(
                            "dispatch_clip answered %s for %s: %s",
                            reply.status,
                            job_id,
                            await reply.text(),
                        )
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("dispatch_clip failed for %s: %s", job_id, error)
