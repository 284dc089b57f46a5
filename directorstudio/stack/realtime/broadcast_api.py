"""Realtime's REST broadcast, as hosted Realtime answers it.

- ``POST /realtime/v1/api/broadcast`` with ``{"messages": [{topic, event, payload, private}]}``
  (supabase-js's ``send()`` before the channel joined);
- ``POST /realtime/v1/api/broadcast/<topic>/events/<event>[?private=true]`` with the payload as
  the body, JSON or ``application/octet-stream`` (``httpSend()``, supabase-py's ``http_send``).

Both need the API key and take the caller's token from ``Authorization: Bearer`` (else the API
key itself): a missing or untrusted one is 401. Accepted messages are 202 with an empty body.
Private messages are sent only where the INSERT policies of ``realtime.messages`` let the caller
write the topic: the batch endpoint leaves the others out silently, the single one answers 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server import limits
from directorstudio.stack.common import (
    CONFIG_KEY,
    POOL_KEY,
    api_key_error,
    api_key_of,
    bearer_token,
    json_response,
    read_body,
)
from directorstudio.stack.realtime import authorization
from directorstudio.stack.realtime.channel import Unauthorized, verify_token
from directorstudio.stack.realtime.hub import RealtimeHub
from directorstudio.stack.realtime.serializer import UserBroadcast

UNSUPPORTED_MEDIA = "Unsupported Media Type. Use application/json or application/octet-stream"


def _unauthorized(status: int = 401) -> web.Response:
    return json_response({"message": "Unauthorized"}, status=status)


def _invalid(errors: dict[str, Any]) -> web.Response:
    return json_response({"errors": errors}, status=422)


def _accepted() -> web.Response:
    return web.Response(status=202)


def _caller(request: web.Request) -> dict[str, Any] | None:
    """The caller's verified claims, None when the request carries no trusted token."""
    token = bearer_token(request) or api_key_of(request)
    try:
        return verify_token(token, request.app[CONFIG_KEY])
    except Unauthorized:
        return None


async def _may_write(request: web.Request, topic: str, claims: dict[str, Any]) -> bool:
    async with request.app[POOL_KEY].connection() as conn:
        policies = await authorization.check_write(conn, authorization.Policies(), topic, claims)
    return bool(policies.broadcast_write)


def _message_errors(message: Any) -> dict[str, list[str]]:
    if not isinstance(message, dict):
        return {"messages": ["is invalid"]}
    errors: dict[str, list[str]] = {}
    for name in ("topic", "event"):
        value = message.get(name)
        if value in (None, ""):
            errors[name] = ["can't be blank"]
        elif not isinstance(value, str):
            errors[name] = ["is invalid"]
    if message.get("payload") is None:
        errors["payload"] = ["can't be blank"]
    elif not isinstance(message["payload"], dict):
        errors["payload"] = ["is invalid"]
    if message.get("private") is not None and not isinstance(message["private"], bool):
        errors["private"] = ["is invalid"]
    return errors


def add_routes(app: web.Application, hub: RealtimeHub) -> None:
    """The REST broadcast endpoints of ``hub``."""

    async def batch(request: web.Request) -> web.StreamResponse:
        if (refusal := api_key_error(request, request.app[CONFIG_KEY])) is not None:
            return refusal
        if (claims := _caller(request)) is None:
            return _unauthorized()
        try:
            body = limits.load_json(await read_body(request))
        except DirectorStudioError as error:
            return json_response({"message": str(error)}, status=error.http_status)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return _invalid({"messages": ["can't be blank"]})
        errors = [_message_errors(message) for message in messages]
        if any(errors):
            return _invalid({"messages": errors})
        allowed: dict[str, bool] = {}
        for message in messages:
            topic, private = message["topic"], bool(message.get("private"))
            if private and topic not in allowed:
                allowed[topic] = await _may_write(request, topic, claims)
            if private and not allowed[topic]:
                continue
            payload = {"payload": message["payload"], "event": message["event"]}
            if message.get("id") is not None:
                payload["meta"] = {"id": message["id"]}
            await hub.broadcast((private, topic), {**payload, "type": "broadcast"})
        return _accepted()

    async def single(request: web.Request) -> web.StreamResponse:
        if (refusal := api_key_error(request, request.app[CONFIG_KEY])) is not None:
            return refusal
        media = request.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if media.lower() not in ("application/json", "application/octet-stream"):
            return json_response({"error": UNSUPPORTED_MEDIA}, status=415)
        if (claims := _caller(request)) is None:
            return _unauthorized()
        topic, event = request.match_info["topic"], request.match_info["event"]
        private = request.query.get("private", "false").lower() == "true"
        try:
            raw = await read_body(request)
            binary = media.lower() == "application/octet-stream"
            payload = raw if binary else limits.load_json(raw) if raw.strip() else None
        except DirectorStudioError as error:
            return json_response({"message": str(error)}, status=error.http_status)
        if isinstance(payload, bytes):
            message = UserBroadcast(event, payload, binary=True)
        elif payload is None:
            return _invalid({"payload": ["can't be blank"]})
        else:
            message = UserBroadcast.of_json(event, payload)
        if private and not await _may_write(request, topic, claims):
            return _unauthorized(403)
        await hub.broadcast((private, topic), message)
        return _accepted()

    app.router.add_post("/realtime/v1/api/broadcast", batch)
    app.router.add_post("/realtime/v1/api/broadcast/{topic}/events/{event}", single)
