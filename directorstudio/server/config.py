"""Settings of the HTTP functions, read from the environment only. Secrets are never shown."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

RenderProviderKind = Literal["local", "http"]

ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "jwt_secret": "SUPABASE_JWT_SECRET",
    "jwks_url": "SUPABASE_JWKS_URL",
    "jwks": "SUPABASE_JWKS",
    "service_role_key": "SUPABASE_SERVICE_ROLE_KEY",
    "scheduler_secret": "SCHEDULER_SECRET",
    "clip_webhook_secret": "CLIP_WEBHOOK_SECRET",
    "clip_webhook_url": "CLIP_WEBHOOK_URL",
    "render_provider_url": "RENDER_PROVIDER_URL",
}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise DirectorStudioError(f"{name} must be an integer", code=ErrorCode.INTERNAL) from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise DirectorStudioError(f"{name} must be a number", code=ErrorCode.INTERNAL) from None


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    """Everything the functions read from their environment (see docs/functions.md)."""

    database_url: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    jwks: str | None = None
    jwks_cache_seconds: float = 300.0
    jwt_issuer: str | None = None
    jwt_audience: str = "authenticated"
    service_role_key: str | None = field(default=None, repr=False)
    scheduler_secret: str | None = field(default=None, repr=False)
    clip_webhook_secret: str | None = field(default=None, repr=False)
    clip_webhook_url: str | None = None
    render_provider: RenderProviderKind = "local"
    render_provider_url: str | None = None
    render_output_dir: Path = Path(".directorstudio/renders")
    render_public_url: str | None = None
    render_host: str = "127.0.0.1"
    render_port: int = 0
    render_clip_seconds: float = 3.0
    dispatch_attempts: int = 3
    dispatch_max_attempts: int = 5
    dispatch_lease_seconds: float = 60.0
    db_pool_size: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        provider = env.get("RENDER_PROVIDER", "local").strip() or "local"
        if provider not in ("local", "http"):
            raise DirectorStudioError(
                "RENDER_PROVIDER must be 'local' or 'http'", code=ErrorCode.INTERNAL
            )
        return cls(
            database_url=_optional(env, "DATABASE_URL"),
            jwt_secret=_optional(env, "SUPABASE_JWT_SECRET"),
            jwks_url=_optional(env, "SUPABASE_JWKS_URL"),
            jwks=_optional(env, "SUPABASE_JWKS"),
            jwks_cache_seconds=_float(env, "SUPABASE_JWKS_CACHE_SECONDS", 300.0),
            jwt_issuer=_optional(env, "SUPABASE_JWT_ISSUER"),
            jwt_audience=env.get("SUPABASE_JWT_AUDIENCE", "authenticated") or "authenticated",
            service_role_key=_optional(env, "SUPABASE_SERVICE_ROLE_KEY"),
            scheduler_secret=_optional(env, "SCHEDULER_SECRET"),
            clip_webhook_secret=_optional(env, "CLIP_WEBHOOK_SECRET"),
            clip_webhook_url=_optional(env, "CLIP_WEBHOOK_URL"),
            render_provider="http" if provider == "http" else "local",
            render_provider_url=_optional(env, "RENDER_PROVIDER_URL"),
            render_output_dir=Path(env.get("RENDER_OUTPUT_DIR") or ".directorstudio/renders"),
            render_public_url=_optional(env, "RENDER_PUBLIC_URL"),
            render_host=env.get("RENDER_HOST", "127.0.0.1") or "127.0.0.1",
            render_port=_int(env, "RENDER_PORT", 0),
            render_clip_seconds=_float(env, "RENDER_CLIP_SECONDS", 3.0),
            dispatch_attempts=_int(env, "DISPATCH_ATTEMPTS", 3),
            dispatch_max_attempts=_int(env, "DISPATCH_MAX_ATTEMPTS", 5),
            dispatch_lease_seconds=_float(env, "DISPATCH_LEASE_SECONDS", 60.0),
            db_pool_size=_int(env, "DB_POOL_SIZE", 4),
        )

    def require(self, name: str) -> str:
        """A setting that must be present for the call at hand (an ``unavailable`` error if not).

        The message names the setting, never its value.
        """
        value = getattr(self, name)
        if not value:
            raise DirectorStudioError(
                f"the server is not configured ({ENV_NAMES.get(name, name)} is missing)",
                code=ErrorCode.UNAVAILABLE,
            )
        return str(value)
