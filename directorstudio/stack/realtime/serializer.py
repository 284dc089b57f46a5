"""Phoenix socket serializers, as hosted Realtime speaks them.

``vsn=1.0.0`` frames are JSON objects ``{"join_ref", "ref", "topic", "event", "payload"}``;
``vsn=2.0.0`` frames are JSON arrays ``[join_ref, ref, topic, event, payload]`` plus Realtime's
binary broadcast frames: a client sends a broadcast as a *user broadcast push* (kind 3) and
receives broadcasts as *user broadcasts* (kind 4), each carrying the user event, optional JSON
metadata and the user payload as JSON or raw bytes. A 1.0.0 socket receives a JSON-encoded user
broadcast as an ordinary broadcast payload, and never a binary one (it cannot represent it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server import limits

USER_BROADCAST_PUSH = 3
USER_BROADCAST = 4
BINARY_ENCODING = 0
JSON_ENCODING = 1
MAX_FIELD_BYTES = 255


@dataclass(frozen=True)
class UserBroadcast:
    """A broadcast whose user payload travels as encoded bytes (JSON text or raw binary)."""

    event: str
    data: bytes
    binary: bool = False
    metadata: dict[str, Any] | None = None

    @classmethod
    def of_json(
        cls, event: str, payload: Any, metadata: dict[str, Any] | None = None
    ) -> UserBroadcast:
        """A user broadcast of a JSON value."""
        return cls(event, json.dumps(payload, default=str).encode(), False, metadata)

    def json_payload(self) -> dict[str, Any] | None:
        """The broadcast payload a JSON frame carries, or None for a binary user payload."""
        if self.binary:
            return None
        payload: dict[str, Any] = {
            "event": self.event,
            "payload": json.loads(self.data),
            "type": "broadcast",
        }
        if self.metadata:
            payload["meta"] = self.metadata
        return payload


@dataclass(frozen=True)
class Frame:
    """One Phoenix message; ``payload`` is a JSON value or, for broadcasts, a UserBroadcast."""

    topic: str
    event: str
    payload: Any
    ref: str | None = None
    join_ref: str | None = None


class Serializer(Protocol):
    """How one socket's frames are read and written."""

    version: str

    def decode(self, data: str | bytes) -> Frame | None:
        """The frame, or None for one that is malformed or beyond the input limits."""

    def encode(self, frame: Frame) -> str | bytes | None:
        """The frame as text or bytes, or None when this serializer cannot represent it."""


def _load(raw: bytes) -> Any:
    try:
        return limits.load_json(raw)
    except DirectorStudioError:
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class V1Serializer:
    """``vsn=1.0.0``: JSON object frames."""

    version = "1.0.0"

    def decode(self, data: str | bytes) -> Frame | None:
        if not isinstance(data, str):
            return None
        message = _load(data.encode())
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            return None
        return Frame(
            topic=str(message.get("topic", "")),
            event=message["event"],
            payload=message.get("payload"),
            ref=_text(message.get("ref")),
            join_ref=_text(message.get("join_ref")),
        )

    def encode(self, frame: Frame) -> str | None:
        payload = frame.payload
        if isinstance(payload, UserBroadcast):
            payload = payload.json_payload()
            if payload is None:
                return None
        message = {
            "event": frame.event,
            "topic": frame.topic,
            "payload": payload,
            "ref": frame.ref,
            "join_ref": frame.join_ref,
        }
        return json.dumps(message, default=str)


class V2Serializer:
    """``vsn=2.0.0``: JSON array frames and Realtime's binary user broadcasts."""

    version = "2.0.0"

    def decode(self, data: str | bytes) -> Frame | None:
        if isinstance(data, bytes):
            return self._decode_binary(data)
        message = _load(data.encode())
        if not isinstance(message, list) or len(message) < 5 or not isinstance(message[3], str):
            return None
        join_ref, ref, topic, event, payload = message[:5]
        return Frame(str(topic or ""), event, payload, _text(ref), _text(join_ref))

    def _decode_binary(self, data: bytes) -> Frame | None:
        if len(data) < 7 or data[0] != USER_BROADCAST_PUSH:
            return None
        sizes = data[1:6]
        encoding = data[6]
        offset = 7
        fields: list[str] = []
        try:
            for size in sizes:
                fields.append(data[offset : offset + size].decode())
                offset += size
        except UnicodeDecodeError:
            return None
        if offset > len(data):
            return None
        join_ref, ref, topic, user_event, raw_metadata = fields
        user_payload = data[offset:]
        metadata: Any = _load(raw_metadata.encode()) if raw_metadata else None
        if raw_metadata and not isinstance(metadata, dict):
            return None
        binary = encoding != JSON_ENCODING
        if not binary and _load(user_payload) is None and user_payload.strip() != b"null":
            return None
        broadcast = UserBroadcast(user_event, user_payload, binary, metadata or None)
        return Frame(topic, "broadcast", broadcast, ref or None, join_ref or None)

    def encode(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame.payload, UserBroadcast):
            return self._encode_user_broadcast(frame.topic, frame.payload)
        message = [frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload]
        return json.dumps(message, default=str)

    def _encode_user_broadcast(self, topic: str, broadcast: UserBroadcast) -> bytes | None:
        metadata = json.dumps(broadcast.metadata).encode() if broadcast.metadata else b""
        header = [topic.encode(), broadcast.event.encode(), metadata]
        if any(len(part) > MAX_FIELD_BYTES for part in header):
            return None
        encoding = BINARY_ENCODING if broadcast.binary else JSON_ENCODING
        sizes = bytes([USER_BROADCAST, *(len(part) for part in header), encoding])
        return sizes + b"".join(header) + broadcast.data


SERIALIZERS: dict[str, Serializer] = {"1": V1Serializer(), "2": V2Serializer()}


def for_version(vsn: str | None) -> Serializer | None:
    """The serializer of a ``vsn`` query parameter (1.0.0 when absent), None when unsupported."""
    major = (vsn or "1.0.0").split(".", 1)[0]
    return SERIALIZERS.get(major)
