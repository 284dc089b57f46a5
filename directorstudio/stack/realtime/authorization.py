"""Who may do what on a private channel: the RLS policies of ``realtime.messages``, checked the
way hosted Realtime checks them.

Read (join, receive): in a transaction that is rolled back, one probe message per extension
(``broadcast``, ``presence``) is inserted for the topic, then selected back as the caller (role,
``request.jwt.claims``, ``realtime.topic`` = the topic): a probe the SELECT policies let through
grants read of that extension. Write (send, track): as the caller, a message per extension is
inserted in a savepoint; one the INSERT policies refuse (42501) denies write of that extension.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from directorstudio.contracts.postgrest.context import RequestContext, apply_async
from directorstudio.stack.db import AsyncConn

BROADCAST = "broadcast"
PRESENCE = "presence"


@dataclass
class Policies:
    """What the caller may do on one private topic; None until checked."""

    broadcast_read: bool | None = None
    presence_read: bool | None = None
    broadcast_write: bool | None = None
    presence_write: bool | None = None

    @property
    def can_join(self) -> bool:
        return bool(self.broadcast_read or self.presence_read)


async def _as_caller(conn: AsyncConn, topic: str, claims: dict[str, Any]) -> None:
    """The caller's request context for the rest of the transaction (the one place it is set)."""
    role = str(claims.get("role") or "anon")
    await apply_async(conn, RequestContext(role, claims, settings={"realtime.topic": topic}))


async def check_read(
    conn: AsyncConn, policies: Policies, topic: str, claims: dict[str, Any], *, presence: bool
) -> Policies:
    """``policies`` with read of broadcast (and presence, when asked) decided by the policies."""
    extensions = [BROADCAST, PRESENCE] if presence else [BROADCAST]
    probes = {extension: uuid.uuid4() for extension in extensions}
    async with conn.transaction(force_rollback=True):
        for extension, probe in probes.items():
            await conn.execute(
                "INSERT INTO realtime.messages (id, topic, extension, private)"
                " VALUES (%s, %s, %s, true)",
                (probe, topic, extension),
            )
        await _as_caller(conn, topic, claims)
        try:
            cursor = await conn.execute(
                "SELECT id FROM realtime.messages WHERE id = ANY(%s)", (list(probes.values()),)
            )
            visible = {row[0] for row in await cursor.fetchall()}
        except psycopg.errors.InsufficientPrivilege:
            visible = set()
    policies.broadcast_read = probes[BROADCAST] in visible
    if presence:
        policies.presence_read = probes[PRESENCE] in visible
    return policies


async def check_write(
    conn: AsyncConn, policies: Policies, topic: str, claims: dict[str, Any]
) -> Policies:
    """``policies`` with write of broadcast and presence decided by the policies."""
    allowed: dict[str, bool] = {}
    async with conn.transaction(force_rollback=True):
        await _as_caller(conn, topic, claims)
        for extension in (BROADCAST, PRESENCE):
            try:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO realtime.messages (topic, extension, private)"
                        " VALUES (%s, %s, true)",
                        (topic, extension),
                    )
                allowed[extension] = True
            except psycopg.errors.InsufficientPrivilege:
                allowed[extension] = False
    policies.broadcast_write = allowed[BROADCAST]
    policies.presence_write = allowed[PRESENCE]
    return policies
