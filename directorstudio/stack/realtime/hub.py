"""``/realtime/v1/websocket``: channels, broadcast and presence over the Phoenix protocol.

Every connected socket and joined channel, by room (a topic is public or private: the two never
meet), and the delivery of broadcasts (from clients, from the REST API and from the database)
and presence diffs to the channels of a room, each encoded by its own socket's serializer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
from aiohttp import WSMsgType, web

from directorstudio.stack.common import CONFIG_KEY, POOL_KEY, api_key_error, json_response
from directorstudio.stack.db import AsyncConn, ConnectionPool
from directorstudio.stack.realtime import authorization, serializer
from directorstudio.stack.realtime.channel import (
    TOPIC_PREFIX,
    Channel,
    Connection,
    Room,
    Unauthorized,
    join_settings,
    log,
    verify_token,
)
from directorstudio.stack.realtime.presence import PresenceTracker
from directorstudio.stack.realtime.serializer import Frame, UserBroadcast

NOTIFY_CHANNEL = "realtime_messages"
ANNOUNCE_LISTENER = (
    "INSERT INTO realtime.local_listeners (channel) VALUES (%s) ON CONFLICT DO NOTHING"
)
OK: dict[str, Any] = {}
UNREACHABLE = "Realtime was unable to connect to the project database"


def _no_read(subtopic: str) -> str:
    return f"Unauthorized: You do not have permissions to read from this Channel topic: {subtopic}"


class RealtimeHub:
    """Every connected socket, by room, and delivery to them."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.rooms: dict[Room, set[Channel]] = {}
        self.presence = PresenceTracker()
        self.pool: ConnectionPool | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one websocket until it closes."""
        config = request.app[CONFIG_KEY]
        self.pool = request.app[POOL_KEY]
        if (refusal := api_key_error(request, config)) is not None:
            return refusal
        chosen = serializer.for_version(request.query.get("vsn"))
        if chosen is None:
            return json_response({"error": "Unsupported serializer version"}, status=400)
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        connection = Connection(socket, chosen)
        self.connections.add(connection)
        try:
            async for message in socket:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                frame = chosen.decode(message.data)
                if frame is not None:  # frames malformed or beyond the input limits are ignored
                    await self._on_frame_safely(request, connection, frame)
        finally:
            self.connections.discard(connection)
            for channel in list(connection.channels.values()):
                await self._remove(channel)
        return socket

    async def _on_frame_safely(
        self, request: web.Request, connection: Connection, frame: Frame
    ) -> None:
        """Handle a frame; a database failure refuses this push and keeps the socket serving."""
        try:
            await self._on_frame(request, connection, frame)
        except psycopg.Error as error:
            log.warning("realtime %s on %s failed: %s", frame.event, frame.topic, error)
            if frame.ref is not None:
                reason = {"reason": UNREACHABLE}
                await connection.reply(frame.topic, frame.ref, frame.join_ref, "error", reason)

    async def _on_frame(self, request: web.Request, connection: Connection, frame: Frame) -> None:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if frame.topic == "phoenix" and frame.event == "heartbeat":
            await connection.reply("phoenix", frame.ref, None, "ok", OK)
            return
        if frame.event == "phx_join":
            await self._join(request, connection, frame, payload)
            return
        channel = connection.channels.get(frame.topic)
        if channel is None:
            if frame.ref is not None:
                reason = {"reason": "unmatched topic"}
                await connection.reply(frame.topic, frame.ref, frame.join_ref, "error", reason)
        elif frame.event == "phx_leave":
            await self._remove(channel)
            await connection.reply(frame.topic, frame.ref, frame.join_ref, "ok", OK)
        elif frame.event == "access_token":
            await self._refresh_token(request, channel, payload)
        elif frame.event == "broadcast":
            await self._client_broadcast(channel, frame)
        elif frame.event == "presence":
            await self._client_presence(channel, frame, payload)

    async def _join(
        self, request: web.Request, connection: Connection, frame: Frame, payload: dict[str, Any]
    ) -> None:
        settings = join_settings(payload)
        token = payload.get("access_token") or payload.get("user_token")
        token = str(token) if token else request.query.get("apikey")
        try:
            if frame.topic in ("", TOPIC_PREFIX) or not frame.topic.startswith(TOPIC_PREFIX):
                raise Unauthorized("TopicNameRequired: You must provide a topic name")
            claims = verify_token(token, request.app[CONFIG_KEY])
            channel = Channel(
                connection,
                frame.topic,
                frame.join_ref,
                settings["private"],
                settings["broadcast_self"],
                settings["broadcast_ack"],
                settings["presence_enabled"],
                settings["presence_key"],
                claims,
                str(token),
            )
            if channel.private:
                channel.policies = await self._read_policies(channel, claims)
                if not channel.policies.can_join:
                    raise Unauthorized(_no_read(channel.subtopic))
        except Unauthorized as refusal:
            reason = {"reason": str(refusal)}
            await connection.reply(frame.topic, frame.ref, frame.join_ref, "error", reason)
            return
        if (previous := connection.channels.get(frame.topic)) is not None:
            await self._remove(previous)
            await previous.close()
        connection.channels[frame.topic] = channel
        self.rooms.setdefault(channel.room, set()).add(channel)
        echoed = [
            {**binding, "id": index + 1}
            for index, binding in enumerate(settings["postgres_changes"])
            if isinstance(binding, dict)
        ]
        response = {"postgres_changes": echoed}
        await connection.reply(frame.topic, frame.ref, frame.join_ref, "ok", response)
        if channel.presence_enabled and channel.reads_presence:
            state = self.presence.state(channel.room)
            await connection.push(Frame(channel.topic, "presence_state", state))

    async def _read_policies(
        self, channel: Channel, claims: dict[str, Any]
    ) -> authorization.Policies:
        """Fresh policies of the channel's topic with read decided for ``claims``."""
        async with self._db() as conn:
            return await authorization.check_read(
                conn,
                authorization.Policies(),
                channel.subtopic,
                claims,
                presence=channel.presence_enabled,
            )

    async def _check_write(self, channel: Channel) -> None:
        async with self._db() as conn:
            await authorization.check_write(
                conn, channel.policies, channel.subtopic, channel.claims
            )

    def _db(self) -> Any:
        assert self.pool is not None, "the hub serves no socket yet"
        return self.pool.connection()

    async def _remove(self, channel: Channel) -> None:
        """Forget a channel: out of its room, its presence untracked (a leave for the others)."""
        channel.connection.channels.pop(channel.topic, None)
        members = self.rooms.get(channel.room)
        if members is not None:
            members.discard(channel)
            if not members:
                self.rooms.pop(channel.room, None)
        if (change := self.presence.untrack(channel.room, channel)) is not None:
            await self._deliver_presence(channel.room, change)

    async def _refresh_token(
        self, request: web.Request, channel: Channel, payload: dict[str, Any]
    ) -> None:
        token = payload.get("access_token")
        if not isinstance(token, str) or not token or token == channel.token:
            return
        previous = channel.policies
        try:
            claims = verify_token(token, request.app[CONFIG_KEY])
            if channel.private:
                # Swapped in once decided: the channel keeps its current policies meanwhile,
                # so nothing broadcast during the check is dropped.
                fresh = await self._read_policies(channel, claims)
                revoked = (previous.broadcast_read and not fresh.broadcast_read) or (
                    previous.presence_read and not fresh.presence_read
                )
                if revoked or not fresh.can_join:
                    raise Unauthorized(
                        "You no longer have permission to read from this Channel topic: "
                        + channel.subtopic
                    )
                channel.policies = fresh
            channel.claims = claims
            channel.token = token
        except Unauthorized as refusal:
            await channel.system("error", str(refusal))
            await self._remove(channel)
            await channel.close()

    async def _client_broadcast(self, channel: Channel, frame: Frame) -> None:
        """A client's broadcast: to the room (and back to the sender with ``self``), acknowledged
        with ``ack``; on a private channel only if the INSERT policies let the sender write."""
        if not isinstance(frame.payload, dict | UserBroadcast):
            return
        if channel.private:
            if channel.policies.broadcast_write is None:
                await self._check_write(channel)
            if not channel.policies.broadcast_write:
                return  # hosted Realtime drops it without a reply
        skip = None if channel.broadcast_self else channel
        await self.broadcast(channel.room, frame.payload, skip=skip)
        if channel.broadcast_ack:
            await channel.connection.reply(channel.topic, frame.ref, frame.join_ref, "ok", OK)

    async def _client_presence(
        self, channel: Channel, frame: Frame, payload: dict[str, Any]
    ) -> None:
        """``track``/``untrack``: the presence of this channel under its key; every change is a
        presence_diff for the room. On a private channel tracking needs presence write."""
        event = str(payload.get("event", "")).lower()
        connection = channel.connection
        if event == "track":
            tracked = payload.get("payload", {})
            if not isinstance(tracked, dict):
                reason = {"reason": "Presence track payload must be a map"}
                await connection.reply(channel.topic, frame.ref, frame.join_ref, "error", reason)
                return
            if channel.private and channel.policies.presence_write is None:
                if channel.policies.presence_read is None:
                    async with self._db() as conn:
                        await authorization.check_read(
                            conn, channel.policies, channel.subtopic, channel.claims, presence=True
                        )
                await self._check_write(channel)
            if channel.private and not channel.policies.presence_write:
                await connection.reply(channel.topic, frame.ref, frame.join_ref, "error", OK)
                return
            channel.presence_enabled = True
            change = self.presence.track(channel.room, channel, channel.presence_key, tracked)
        elif event == "untrack":
            change = self.presence.untrack(channel.room, channel)
        else:
            await connection.reply(channel.topic, frame.ref, frame.join_ref, "error", OK)
            return
        if change is not None:
            await self._deliver_presence(channel.room, change)
        await connection.reply(channel.topic, frame.ref, frame.join_ref, "ok", OK)

    async def _deliver_presence(self, room: Room, change: dict[str, Any]) -> None:
        for channel in list(self.rooms.get(room, ())):
            if channel.reads_presence:
                await channel.connection.push(Frame(channel.topic, "presence_diff", change))

    async def broadcast(
        self, room: Room, payload: dict[str, Any] | UserBroadcast, skip: Channel | None = None
    ) -> int:
        """Send a broadcast to the channels of a room that may read it; how many got it."""
        frame = Frame(TOPIC_PREFIX + room[1], "broadcast", payload)
        encoded: dict[str, str | bytes | None] = {}
        delivered = 0
        for channel in list(self.rooms.get(room, ())):
            if channel is skip or not channel.reads_broadcasts:
                continue
            codec = channel.connection.serializer
            if codec.version not in encoded:
                encoded[codec.version] = codec.encode(frame)
            data = encoded[codec.version]
            if data is not None and await channel.connection.push(frame, data):
                delivered += 1
        return delivered

    async def deliver(
        self, subtopic: str, event: str, payload: Any, private: bool, message_id: Any = None
    ) -> int:
        """Send a database message (``realtime.send``) to its room; how many got it."""
        metadata = {"id": str(message_id)} if message_id is not None else None
        return await self.broadcast(
            (private, subtopic), UserBroadcast.of_json(event, payload, metadata)
        )

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
        self.pool = pool
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # Writers notify only once a listener is announced (bootstrap.sql).
                    await conn.execute(ANNOUNCE_LISTENER, (NOTIFY_CHANNEL,))
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
            "SELECT id, topic, event, payload, coalesce(private, false) FROM realtime.messages"
            " WHERE id = %s AND inserted_at = %s::timestamp",
            (note.get("id"), note.get("inserted_at")),
        )
        row = await cursor.fetchone()
        if row is not None:
            await self.deliver(row[1], row[2] or "", row[3], bool(row[4]), row[0])
