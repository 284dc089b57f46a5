"""A socket, the channels it joined, and the check of the tokens that open them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from directorstudio.stack import tokens
from directorstudio.stack.common import API_ROLES, GatewayConfig
from directorstudio.stack.realtime.authorization import Policies
from directorstudio.stack.realtime.serializer import Frame, Serializer

log = logging.getLogger("directorstudio.stack.realtime")
TOPIC_PREFIX = "realtime:"
Room = tuple[bool, str]  # (private, subtopic): public and private channels of a name are apart


class Unauthorized(Exception):
    """A refused join, token or request: the reason goes back to the client."""


def verify_token(token: str | None, config: GatewayConfig) -> dict[str, Any]:
    """The claims of an access token (a user's JWT or an API key), as hosted Realtime checks it."""
    if not token:
        raise Unauthorized("Unauthorized: no access token")
    try:
        claims = tokens.decode(token, config.keys, now=config.clock())
    except tokens.TokenError as error:
        if error.expired:
            raise Unauthorized("Unauthorized: Token has expired") from error
        raise Unauthorized(f"Unauthorized: Invalid JWT: {error.message}") from error
    if claims.get("role", "anon") not in API_ROLES:
        raise Unauthorized("Unauthorized: JWT role is not an API role")
    return claims


def _section(parent: Any, name: str) -> dict[str, Any]:
    value = parent.get(name) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def join_settings(payload: dict[str, Any]) -> dict[str, Any]:
    """The parts of a phx_join payload's ``config`` a channel keeps (defaults as hosted)."""
    config = _section(payload, "config")
    broadcast, presence = _section(config, "broadcast"), _section(config, "presence")
    key = presence.get("key")
    bindings = config.get("postgres_changes")
    return {
        "private": _flag(config.get("private")),
        "broadcast_self": _flag(broadcast.get("self")),
        "broadcast_ack": _flag(broadcast.get("ack")),
        "presence_enabled": _flag(presence.get("enabled")),
        "presence_key": str(key) if key not in (None, "") else str(uuid.uuid1()),
        "postgres_changes": bindings if isinstance(bindings, list) else [],
    }


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass(eq=False)
class Connection:
    """One websocket, the serializer its ``vsn`` chose and the channels it joined."""

    socket: web.WebSocketResponse
    serializer: Serializer
    channels: dict[str, Channel] = field(default_factory=dict)

    async def push(self, frame: Frame, encoded: str | bytes | None = None) -> bool:
        """Send one frame (already ``encoded``, or encoded here); False when it was not sent."""
        data = encoded if encoded is not None else self.serializer.encode(frame)
        if data is None or self.socket.closed:
            return False
        try:
            if isinstance(data, bytes):
                await self.socket.send_bytes(data)
            else:
                await self.socket.send_str(data)
        except (ConnectionError, RuntimeError) as error:
            log.debug("realtime push to a closing socket dropped: %s", error)
            return False
        return True

    async def reply(
        self, topic: str, ref: str | None, join_ref: str | None, status: str, response: Any
    ) -> None:
        """A ``phx_reply`` to the push ``ref``."""
        payload = {"status": status, "response": response}
        await self.push(Frame(topic, "phx_reply", payload, ref, join_ref))


@dataclass(eq=False)
class Channel:
    """One joined topic of one socket."""

    connection: Connection
    topic: str
    join_ref: str | None
    private: bool
    broadcast_self: bool
    broadcast_ack: bool
    presence_enabled: bool
    presence_key: str
    claims: dict[str, Any]
    token: str
    policies: Policies = field(default_factory=Policies)

    @property
    def subtopic(self) -> str:
        return self.topic.removeprefix(TOPIC_PREFIX)

    @property
    def room(self) -> Room:
        return (self.private, self.subtopic)

    @property
    def reads_broadcasts(self) -> bool:
        return not self.private or bool(self.policies.broadcast_read)

    @property
    def reads_presence(self) -> bool:
        return not self.private or self.policies.presence_read is True

    async def system(self, status: str, message: str, extension: str = "system") -> None:
        """A ``system`` message on this channel."""
        payload = {
            "channel": self.subtopic,
            "extension": extension,
            "message": message,
            "status": status,
        }
        await self.connection.push(Frame(self.topic, "system", payload))

    async def close(self) -> None:
        """Tell the client the server closed this channel (``phx_close``)."""
        await self.connection.push(Frame(self.topic, "phx_close", {}, self.join_ref, self.join_ref))
