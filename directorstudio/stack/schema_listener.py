"""PostgREST's schema cache reload for the gateway: ``NOTIFY pgrst, 'reload schema'`` (or
``NOTIFY pgrst`` with no payload) empties the gateway's
:class:`~directorstudio.contracts.postgrest.catalog.SchemaCache`, so the next call of each
function reads its signature from the catalog again.

The cache is also emptied whenever the listening connection is (re)established, since a reload
announced while nobody listened reached nobody.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg

from directorstudio.contracts.postgrest.catalog import SchemaCache

log = logging.getLogger("directorstudio.stack.schema")
CHANNEL = "pgrst"
RELOAD_PAYLOADS = frozenset({"reload schema", ""})


async def listen_for_reloads(
    database_url: str,
    cache: SchemaCache,
    ready: asyncio.Event | None = None,
    *,
    reconnect_delay: float = 1.0,
) -> None:
    """Reload ``cache`` on each schema reload notification until cancelled (reconnecting after
    a lost connection); ``ready`` is set once listening."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                cache.reload()
                if ready is not None:
                    ready.set()
                async for notify in conn.notifies():
                    if notify.payload.strip().lower() in RELOAD_PAYLOADS:
                        cache.reload()
        except psycopg.Error as error:
            log.warning("schema cache listener lost its connection: %s", error)
            await asyncio.sleep(reconnect_delay)
