"""What every part of the gateway shares: its settings, the API-key check, JSON replies and the
reading of request bodies within the limits of directorstudio.server.limits (the same limits
and checks as the HTTP functions)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from directorstudio.contracts.postgrest.catalog import SchemaCache
from directorstudio.contracts.postgrest.context import API_ROLES
from directorstudio.server import limits
from directorstudio.stack.db import ConnectionPool
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.tokens import VerifiedTokens

__all__ = ["API_ROLES", "CONFIG_KEY", "POOL_KEY", "SCHEMA_KEY", "GatewayConfig"]


@dataclass
class GatewayConfig:
    """Settings of one gateway: keys, where it is reachable and where its parts live."""

    keys: StackKeys
    public_url: str
    database_url: str
    functions_url: str | None = None
    render_dir: Path | None = None
    access_token_ttl: int = 3600
    # GoTrue's REFRESH_TOKEN_REUSE_INTERVAL (supabase/config.toml: refresh_token_reuse_interval).
    refresh_token_reuse_interval: float = 10.0
    # supabase/config.toml's [auth.rate_limit] (per IP; none set, none enforced).
    auth_rate_limits: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], float] = field(default=time.time)
    # The claims of API callers' tokens verified before (checked against ``clock`` on use).
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)

    @property
    def auth_issuer(self) -> str:
        return f"{self.public_url}/auth/v1"


CONFIG_KEY = web.AppKey("config", GatewayConfig)
POOL_KEY = web.AppKey("pool", ConnectionPool)
SCHEMA_KEY = web.AppKey("schema", SchemaCache)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON reply with the content type PostgREST and GoTrue use."""
    return web.Response(
        text=json.dumps(body, default=str),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=dict(headers or {}),
    )


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_key_of(request: web.Request) -> str | None:
    """The ``apikey`` header (or query parameter) the Supabase API gateway requires."""
    return request.headers.get("apikey") or request.query.get("apikey")


def api_key_error(request: web.Request, config: GatewayConfig) -> web.Response | None:
    """The API gateway's refusal when the request carries no valid API key, else None."""
    key = api_key_of(request)
    if not key:
        return json_response(
            {
                "message": "No API key found in request",
                "hint": "No `apikey` request header or url param was found.",
            },
            status=401,
        )
    if key not in (config.keys.anon_key, config.keys.service_role_key):
        return json_response(
            {
                "message": "Invalid API key",
                "hint": "Double check your Supabase `anon` or `service_role` API key.",
            },
            status=401,
        )
    return None


async def read_body(request: web.Request, max_bytes: int = limits.MAX_BODY_BYTES) -> bytes:
    """The raw body, at most ``max_bytes`` (``payload_too_large`` beyond, without reading on)."""
    limits.check_size(request.content_length, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        limits.check_size(size, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request, max_bytes: int = limits.MAX_BODY_BYTES) -> Any:
    """The JSON body within every limit (``None`` for an empty body), or the documented
    ``invalid_input``/``payload_too_large`` error (a DirectorStudioError)."""
    raw = await read_body(request, max_bytes)
    return limits.load_json(raw, max_bytes) if raw.strip() else None


async def read_json_text(
    request: web.Request, max_bytes: int = limits.MAX_BODY_BYTES
) -> tuple[Any, str | None]:
    """:func:`read_json`, and the body as text when it is plain UTF-8 JSON
    (:func:`directorstudio.server.limits.load_json_text`)."""
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        return None, None
    return limits.load_json_text(raw, max_bytes)
