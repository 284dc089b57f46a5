"""The process-wide wiring of the functions: built once from the environment (a cold start),
or installed explicitly (tests, the local stack)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import tenacity

from directorstudio.server.auth import TokenVerifier
from directorstudio.server.config import Settings
from directorstudio.server.db import Database
from directorstudio.server.dispatch import ClipDispatcher
from directorstudio.server.render.base import RenderProvider
from directorstudio.server.render.files import FileServer
from directorstudio.server.render.http_provider import HttpRenderProvider
from directorstudio.server.render.local import LocalRenderProvider
from directorstudio.server.render.video import VideoSpec


@dataclass
class ServerContext:
    """Everything a function needs besides its request."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    dispatcher: ClipDispatcher
    clock: Callable[[], float] = time.time

    def close(self) -> None:
        """Release the database pool and stop a local provider."""
        self.db.close()
        provider = self.dispatcher.built_provider
        if isinstance(provider, LocalRenderProvider):
            provider.close()


def provider_from_settings(settings: Settings) -> RenderProvider:
    """The configured render provider (a local one starts its file server and worker)."""
    secret = settings.require("clip_webhook_secret")
    if settings.render_provider == "http":
        return HttpRenderProvider(settings.require("render_provider_url"), secret)
    files = FileServer(
        settings.render_output_dir, host=settings.render_host, port=settings.render_port
    )
    return LocalRenderProvider(
        files=files.start(),
        webhook_secret=secret,
        spec=VideoSpec(seconds=settings.render_clip_seconds),
        public_url=settings.render_public_url,
    ).start()


def build(
    settings: Settings,
    *,
    provider: RenderProvider | None = None,
    clock: Callable[[], float] = time.time,
    wait: tenacity.wait.wait_base | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ServerContext:
    """A context for ``settings``; ``provider``, ``clock``, ``wait`` and ``sleep`` may be
    injected."""
    db = Database.from_url(settings.require("database_url"), size=settings.db_pool_size)
    verifier = TokenVerifier.from_jwks_url(
        secret=settings.jwt_secret,
        jwks_url=settings.jwks_url,
        jwks_json=settings.jwks,
        cache_seconds=settings.jwks_cache_seconds,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        clock=clock,
    )
    dispatcher = ClipDispatcher(
        db,
        provider,
        provider_factory=lambda: provider_from_settings(settings),
        clip_seconds=settings.render_clip_seconds,
        attempts=settings.dispatch_attempts,
        max_attempts=settings.dispatch_max_attempts,
        lease_seconds=settings.dispatch_lease_seconds,
        wait=wait,
        sleep=sleep,
    )
    return ServerContext(settings, db, verifier, dispatcher, clock)


_lock = threading.Lock()
_current: ServerContext | None = None


def install(context: ServerContext | None) -> None:
    """Use ``context`` for every following request (``None``: rebuild from the environment)."""
    global _current
    with _lock:
        _current = context


def current() -> ServerContext:
    """The installed context, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = build(Settings.from_env())
        return _current
