"""Realtime test helpers: raw Phoenix sockets (vsn 1.0.0 objects, 2.0.0 arrays and binary
user broadcasts) over the ``websockets`` package, supabase-py channels, and policies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from websockets.asyncio.client import ClientConnection, connect

from supabase import acreate_client
from tests.support.gateway import RunningGateway, async_client_options

WAIT = 10.0
USER_BROADCAST_PUSH = 3
USER_BROADCAST = 4


async def client(gateway: RunningGateway) -> Any:
    """A supabase-py async client of the gateway (anon key, signed out)."""
    return await acreate_client(gateway.url, gateway.keys.anon_key, options=async_client_options())


async def signed_in(gateway: RunningGateway) -> tuple[Any, Any]:
    """A supabase-py async client signed in anonymously, and its session."""
    supabase = await client(gateway)
    session = (await supabase.auth.sign_in_anonymously()).session
    return supabase, session


def allow_rooms(admin_conn: psycopg.Connection[Any]) -> None:
    """Policies for the tests' own topics: signed-in users read and write ``room:*`` (broadcast
    and presence) and only read ``readonly:*``."""
    admin_conn.execute(
        "CREATE POLICY test_rooms_read ON realtime.messages FOR SELECT TO authenticated"
        " USING ((SELECT realtime.topic()) LIKE 'room:%' OR (SELECT realtime.topic()) LIKE"
        " 'readonly:%')"
    )
    admin_conn.execute(
        "CREATE POLICY test_rooms_write ON realtime.messages FOR INSERT TO authenticated"
        " WITH CHECK ((SELECT realtime.topic()) LIKE 'room:%')"
    )


def send_from_database(
    admin_conn: psycopg.Connection[Any], topic: str, event: str, payload: Any, private: bool
) -> None:
    """A message written by ``realtime.send``, as the change-hint triggers write them."""
    admin_conn.execute(
        "SELECT realtime.send(%s::jsonb, %s, %s, %s)", (json.dumps(payload), event, topic, private)
    )


def user_broadcast_push(
    topic: str, event: str, payload: bytes, *, json_encoded: bool, ref: str = "", join_ref: str = ""
) -> bytes:
    """A 2.0.0 binary broadcast frame as supabase-js ≥2.5x sends it (kind 3)."""
    fields = [join_ref.encode(), ref.encode(), topic.encode(), event.encode(), b""]
    header = bytes([USER_BROADCAST_PUSH, *(len(part) for part in fields), int(json_encoded)])
    return header + b"".join(fields) + payload


@dataclass
class UserBroadcastFrame:
    """A decoded 2.0.0 binary user broadcast (kind 4)."""

    topic: str
    event: str
    metadata: dict[str, Any] | None
    json_encoded: bool
    payload: bytes


def decode_user_broadcast(data: bytes) -> UserBroadcastFrame:
    """Decode a kind 4 frame the way supabase-js does."""
    assert data[0] == USER_BROADCAST, data[:1]
    topic_size, event_size, meta_size, encoding = data[1], data[2], data[3], data[4]
    offset = 5
    topic = data[offset : offset + topic_size].decode()
    offset += topic_size
    event = data[offset : offset + event_size].decode()
    offset += event_size
    meta = data[offset : offset + meta_size]
    offset += meta_size
    metadata = json.loads(meta) if meta else None
    return UserBroadcastFrame(topic, event, metadata, encoding == 1, data[offset:])


class RawSocket:
    """A websocket speaking one serializer version; frames are read with a timeout."""

    def __init__(self, connection: ClientConnection, vsn: str) -> None:
        self.connection = connection
        self.vsn = vsn

    async def push(
        self,
        topic: str,
        event: str,
        payload: Any,
        ref: str | None = None,
        join_ref: str | None = None,
    ) -> None:
        if self.vsn.startswith("2"):
            await self.connection.send(json.dumps([join_ref, ref, topic, event, payload]))
        else:
            frame = {"topic": topic, "event": event, "payload": payload, "ref": ref}
            await self.connection.send(json.dumps({**frame, "join_ref": join_ref}))

    async def send_bytes(self, data: bytes) -> None:
        await self.connection.send(data)

    async def receive(self) -> Any:
        """The next frame: a dict (1.0.0), a list (2.0.0 text) or bytes (2.0.0 binary)."""
        data = await asyncio.wait_for(self.connection.recv(), WAIT)
        return data if isinstance(data, bytes) else json.loads(data)

    async def receive_until(self, matches: Callable[[Any], bool]) -> Any:
        """The first frame that ``matches``, skipping the others."""
        while True:
            frame = await self.receive()
            if matches(frame):
                return frame

    async def join(
        self, topic: str, token: str, config: dict[str, Any] | None = None, ref: str = "1"
    ) -> Any:
        """Join ``realtime:<topic>`` and return the reply frame."""
        settings = {
            "broadcast": {"self": False, "ack": False},
            "presence": {"key": "", "enabled": False},
            "postgres_changes": [],
            "private": False,
            **(config or {}),
        }
        payload = {"config": settings, "access_token": token}
        await self.push(f"realtime:{topic}", "phx_join", payload, ref, ref)
        return await self.receive_until(lambda frame: _field(frame, "event") == "phx_reply")

    async def heartbeat(self, ref: str) -> None:
        await self.push("phoenix", "heartbeat", {}, ref)


def _field(frame: Any, name: str) -> Any:
    if isinstance(frame, dict):
        return frame.get(name)
    if isinstance(frame, list):
        return frame[["join_ref", "ref", "topic", "event", "payload"].index(name)]
    return None


field_of = _field


@asynccontextmanager
async def raw_socket(
    gateway: RunningGateway, vsn: str, apikey: str | None = None
) -> AsyncIterator[RawSocket]:
    """A RawSocket of the gateway's realtime speaking ``vsn``, closed afterwards."""
    base = gateway.url.replace("http", "ws", 1) + "/realtime/v1/websocket"
    async with connect(f"{base}?apikey={apikey or gateway.keys.anon_key}&vsn={vsn}") as socket:
        yield RawSocket(socket, vsn)


def run(test: Callable[[], Any]) -> Any:
    """Run an async scenario to its end."""
    return asyncio.run(test())
