"""``/realtime/v1/websocket``: the Phoenix v1 JSON subset supabase-py's realtime client uses.

Joins of private channels are authorised like hosted Realtime does it: in a transaction that is
rolled back, a broadcast message for the topic is inserted, then read back as the joining user
(role and JWT claims set, ``realtime.topic`` = the topic) so that the RLS SELECT policies of
``realtime.messages`` decide. Messages written to ``realtime.messages`` (``realtime.send``) reach
the server through ``LISTEN realtime_messages`` and go to the sockets joined to their topic.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from aiohttp import WSMsgType, web

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.contracts.postgrest.context import RequestContext, apply_async
from directorstudio.server import limits
from directorstudio.stack import tokens
from directorstudio.stack.common import (
    API_ROLES,
    CONFIG_KEY,
    POOL_KEY,
    GatewayConfig,
    api_key_error,
)
from directorstudio.stack.db import AsyncConn, ConnectionPool

log = logging.getLogger("directorstudio.stack.realtime")
TOPIC_PREFIX = "realtime:"
NOTIFY_CHANNEL = "realtime_messages"


@dataclass
class Channel:
    """One joined topic of one socket."""

    topic: str
    join_ref: str | None
    private: bool
    broadcast_self: bool
    claims: dict[str, Any]


@dataclass(eq=False)
class Connection:
    """One websocket and the channels it joined."""

    socket: web.WebSocketResponse
    channels: dict[str, Channel] = field(default_factory=dict)

    async def send(self, message: dict[str, Any]) -> None:
        if not self.socket.closed:
            await self.socket.send_str(json.dumps(message, default=str))


class Unauthorized(Exception):
    """A refused join or token: the reason goes back to the client."""


def frame(
    event: str, topic: str, payload: dict[str, Any], ref: str | None, join_ref: str | None = None
) -> dict[str, Any]:
    return {"event": event, "topic": topic, "payload": payload, "ref": ref, "join_ref": join_ref}


class RealtimeHub:
    """Every connected socket, by topic, and delivery of database messages to them."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()

    def _claims(self, token: str | None, config: GatewayConfig) -> dict[str, Any]:
        if not token:
            raise Unauthorized("Unauthorized: no access token")
        try:
            claims = tokens.decode(token, config.keys.jwt_secret, now=config.clock())
        except tokens.TokenError as error:
            if error.expired:
                raise Unauthorized("Unauthorized: Token has expired") from error
            raise Unauthorized(f"Unauthorized: Invalid JWT: {error.message}") from error
        if claims.get("role", "anon") not in API_ROLES:
            raise Unauthorized("Unauthorized: JWT role is not an API role")
        return claims

    async def can_read(self, pool: ConnectionPool, subtopic: str, claims: dict[str, Any]) -> bool:
        """Whether the RLS SELECT policies of realtime.messages let this user read the topic."""
        async with pool.connection() as conn:
            return await read_authorized(conn, subtopic, claims)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one websocket until it closes."""
        config = request.app[CONFIG_KEY]
        if (refusal := api_key_error(request, config)) is not None:
            return refusal
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        connection = Connection(socket)
        self.connections.add(connection)
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = limits.load_json(message.data.encode())
                except DirectorStudioError:
                    continue  # a frame beyond the input limits is ignored, like unparseable ones
                if isinstance(data, dict):
                    await self._on_message(request, connection, data)
        finally:
            self.connections.discard(connection)
        return socket

    async def _on_message(
        self, request: web.Request, connection: Connection, data: dict[str, Any]
    ) -> None:
        event = data.get("event")
        topic = str(data.get("topic", ""))
        ref = data.get("ref")
        join_ref = data.get("join_ref")
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        assert isinstance(payload, dict)
        ok = {"status": "ok", "response": {}}
        if event == "heartbeat" and topic == "phoenix":
            await connection.send(frame("phx_reply", "phoenix", ok, ref))
        elif event == "phx_join":
            await self._join(request, connection, topic, payload, ref, join_ref)
        elif event == "phx_leave":
            connection.channels.pop(topic, None)
            await connection.send(frame("phx_reply", topic, ok, ref, join_ref))
        elif event == "access_token":
            await self._refresh_token(request, connection, topic, payload)
        elif event == "broadcast":
            await self._relay(connection, topic, payload)
        elif ref is not None:
            await connection.send(frame("phx_reply", topic, ok, ref, join_ref))

    async def _join(
        self,
        request: web.Request,
        connection: Connection,
        topic: str,
        payload: dict[str, Any],
        ref: str | None,
        join_ref: str | None,
    ) -> None:
        config = request.app[CONFIG_KEY]
        settings = payload.get("config") if isinstance(payload.get("config"), dict) else {}
        assert isinstance(settings, dict)
        private = bool(settings.get("private", False))
        broadcast = settings.get("broadcast") if isinstance(settings.get("broadcast"), dict) else {}
        assert isinstance(broadcast, dict)
        bindings = settings.get("postgres_changes") or []
        token = payload.get("access_token") or request.query.get("apikey")
        subtopic = topic.removeprefix(TOPIC_PREFIX)
        try:
            claims = self._claims(token, config)
            if private and not await self.can_read(request.app[POOL_KEY], subtopic, claims):
                raise Unauthorized(
                    "Unauthorized: You do not have permissions to read from this Channel topic: "
                    + subtopic
                )
        except Unauthorized as refusal:
            reply = {"status": "error", "response": {"reason": str(refusal)}}
            await connection.send(frame("phx_reply", topic, reply, ref, join_ref))
            return
        connection.channels[topic] = Channel(
            topic=topic,
            join_ref=join_ref,
            private=private,
            broadcast_self=bool(broadcast.get("self", False)),
            claims=claims,
        )
        echoed = [
            {**binding, "id": index + 1}
            for index, binding in enumerate(bindings)
            if isinstance(binding, dict)
        ]
        reply = {"status": "ok", "response": {"postgres_changes": echoed}}
        await connection.send(frame("phx_reply", topic, reply, ref, join_ref))

    async def _refresh_token(
        self, request: web.Request, connection: Connection, topic: str, payload: dict[str, Any]
    ) -> None:
        channel = connection.channels.get(topic)
        if channel is None:
            return
        config = request.app[CONFIG_KEY]
        subtopic = topic.removeprefix(TOPIC_PREFIX)
        try:
            claims = self._claims(payload.get("access_token"), config)
            if channel.private and not await self.can_read(request.app[POOL_KEY], subtopic, claims):
                raise Unauthorized(
                    "Unauthorized: You do not have permissions to read from this Channel topic: "
                    + subtopic
                )
        except Unauthorized as refusal:
            connection.channels.pop(topic, None)
            system = {
                "channel": subtopic,
                "extension": "system",
                "message": str(refusal),
                "status": "error",
            }
            await connection.send(frame("system", topic, system, None))
            await connection.send(frame("phx_close", topic, {}, channel.join_ref))
            return
        channel.claims = claims

    async def _relay(self, sender: Connection, topic: str, payload: dict[str, Any]) -> None:
        """Client broadcast on a public channel: to every other member (and self if asked)."""
        channel = sender.channels.get(topic)
        if channel is None or channel.private:
            return
        message = frame("broadcast", topic, payload, None)
        for connection in list(self.connections):
            member = connection.channels.get(topic)
            if member is None or member.private:
                continue
            if connection is sender and not channel.broadcast_self:
                continue
            await connection.send(message)

    async def deliver(self, subtopic: str, event: str, payload: Any, private: bool) -> int:
        """Send a database message to the sockets joined to its topic; how many got it."""
        topic = TOPIC_PREFIX + subtopic
        message = frame(
            "broadcast",
            topic,
            {"type": "broadcast", "event": event, "payload": payload},
            None,
        )
        delivered = 0
        for connection in list(self.connections):
            channel = connection.channels.get(topic)
            if channel is None or channel.private != private:
                continue
            try:
                await connection.send(message)
                delivered += 1
            except ConnectionError:
                continue
        return delivered

    async def close_all(self) -> None:
        """Close every socket (server shutdown)."""
        for connection in list(self.connections):
            await connection.socket.close(code=1001, message=b"server shutting down")

    async def listen(
        self, database_url: str, pool: ConnectionPool, ready: asyncio.Event | None = None
    ) -> None:
        """Forward ``realtime.messages`` inserts until cancelled; reconnects after failures.

        The listening connection only waits; message rows are read through ``pool``.
        """
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    if ready is not None:
                        ready.set()
                    async for notify in conn.notifies():
                        async with pool.connection() as reader:
                            await self._on_notify(reader, notify.payload)
            except psycopg.Error as error:
                log.warning("realtime listener lost its connection: %s", error)
                await asyncio.sleep(1.0)

    async def _on_notify(self, conn: AsyncConn, raw: str) -> None:
        try:
            note = json.loads(raw)
        except ValueError:
            return
        cursor = await conn.execute(
            "SELECT topic, event, payload, coalesce(private, false) FROM realtime.messages"
            " WHERE id = %s AND inserted_at = %s::timestamp",
            (note.get("id"), note.get("inserted_at")),
        )
        row = await cursor.fetchone()
        if row is not None:
            await self.deliver(row[0], row[1] or "", row[2], bool(row[3]))


async def read_authorized(conn: AsyncConn, subtopic: str, claims: dict[str, Any]) -> bool:
    """Hosted Realtime's read check: insert a probe message, select it as the user, roll back."""
    role = str(claims.get("role") or "anon")
    if role not in API_ROLES:
        return False
    try:
        async with conn.transaction(force_rollback=True):
            cursor = await conn.execute(
                "INSERT INTO realtime.messages (topic, extension, private)"
                " VALUES (%s, 'broadcast', true) RETURNING id",
                (subtopic,),
            )
            row = await cursor.fetchone()
            assert row is not None
            await apply_async(
                conn, RequestContext(role, claims, settings={"realtime.topic": subtopic})
            )
            cursor = await conn.execute(
                "SELECT id FROM realtime.messages"
                " WHERE topic = %s AND extension = 'broadcast' AND id = %s",
                (subtopic, row[0]),
            )
            return await cursor.fetchone() is not None
    except psycopg.errors.InsufficientPrivilege:
        return False
