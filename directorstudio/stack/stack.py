"""``directorstudio up``: PostgreSQL (with pg_cron), migrations, seed, keys, functions, gateway,
the dispatch listener and the dispatch retry."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import pwd
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from directorstudio import migrate, paths
from directorstudio.pgcluster import LocalCluster, free_port, pg_cron_installed, pg_cron_settings
from directorstudio.stack import functions, keys, schedule
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.dispatch_listener import DispatchListener
from directorstudio.stack.gateway import RENDERS_PATH
from directorstudio.stack.gotrue_limits import WINDOWS
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.runner import Gateway
from directorstudio.stack.state import StackState

log = logging.getLogger("directorstudio.stack")
DURABLE_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
CONFIG_TOML = paths.RESOURCES_DIR / "supabase" / "config.toml"
DEFAULT_REUSE_INTERVAL = 10.0


@dataclass(frozen=True)
class StackSettings:
    """Where the stack keeps its data and listens."""

    data_dir: Path
    port: int = 54321
    db_port: int = 54322
    host: str = "127.0.0.1"
    retry_interval: float = 60.0


def apply_seed(database_url: str, seed_file: Path = paths.SEED_FILE) -> None:
    """Run ``supabase/seed.sql`` (idempotent) against the database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL(seed_file.read_text()))


def _auth_config(config_toml: Path) -> dict[str, Any]:
    if not config_toml.is_file():
        return {}
    auth: dict[str, Any] = tomllib.loads(config_toml.read_text()).get("auth", {})
    return auth


def refresh_token_reuse_interval(config_toml: Path = CONFIG_TOML) -> float:
    """``[auth] refresh_token_reuse_interval`` of ``supabase/config.toml`` (seconds; GoTrue's
    default of 10 when the file or the setting is absent)."""
    auth = _auth_config(config_toml)
    return float(auth.get("refresh_token_reuse_interval", DEFAULT_REUSE_INTERVAL))


def auth_rate_limits(config_toml: Path = CONFIG_TOML) -> dict[str, int]:
    """The per-IP limits of ``[auth.rate_limit]`` in ``supabase/config.toml`` that the gateway
    enforces (``anonymous_users``, ``sign_in_sign_ups``, ``token_refresh``; unset: none)."""
    limits = _auth_config(config_toml).get("rate_limit", {})
    return {name: int(limits[name]) for name in WINDOWS if name in limits}


def derived_secret(stack_keys: StackKeys, purpose: str) -> str:
    """A secret for one purpose (render webhook, scheduler), derived from the JWT secret."""
    return hashlib.sha256(f"{purpose}:{stack_keys.jwt_secret}".encode()).hexdigest()


def functions_env(
    stack_keys: StackKeys, api_url: str, database_url: str, render_dir: Path
) -> dict[str, str]:
    """The environment the HTTP functions read their settings from."""
    return {
        "SUPABASE_URL": api_url,
        "SUPABASE_ANON_KEY": stack_keys.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": stack_keys.service_role_key,
        "SUPABASE_JWT_SECRET": stack_keys.jwt_secret,
        # User access tokens are ES256: the functions verify them with the published keys.
        "SUPABASE_JWKS_URL": f"{api_url}/auth/v1/.well-known/jwks.json",
        "SUPABASE_JWT_ISSUER": f"{api_url}/auth/v1",
        "DATABASE_URL": database_url,
        "SCHEDULER_SECRET": derived_secret(stack_keys, "scheduler"),
        "CLIP_WEBHOOK_SECRET": stack_keys.webhook_secret,
        # The render provider calls back through the gateway, which wants an API key on every
        # path; the webhook itself is authenticated by its signature.
        "CLIP_WEBHOOK_URL": f"{api_url}/functions/v1/clip_webhook?apikey={stack_keys.anon_key}",
        "RENDER_PROVIDER": "local",
        "RENDER_OUTPUT_DIR": str(render_dir),
        "RENDER_HOST": "127.0.0.1",
        "RENDER_PORT": "0",
        # Download URLs point at the gateway, which serves the output folder: they stay valid
        # across restarts.
        "RENDER_PUBLIC_URL": f"{api_url}{RENDERS_PATH}",
    }


def _postgres_user_reaches(folder: Path) -> bool:
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(folder)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def cluster_dir(data_dir: Path) -> Path:
    """Where the PostgreSQL cluster of ``data_dir`` lives: inside it, unless the server must run
    as the ``postgres`` OS user (we are root) and a private parent folder (e.g. ``/root``) keeps
    that user out; then in that user's home, in a folder named after ``data_dir``."""
    inside = data_dir / "postgres"
    if os.geteuid() != 0 or _postgres_user_reaches(data_dir):
        return inside
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(pwd.getpwnam("postgres").pw_dir) / "directorstudio" / digest


def server_settings(database: str, socket_dir: Path) -> dict[str, str]:
    """Durable settings, with pg_cron preloaded for ``database`` when it is installed (it runs
    the rollups the migrations schedule, connecting through the socket in ``socket_dir``)."""
    if pg_cron_installed():
        return {**DURABLE_SETTINGS, **pg_cron_settings(database, str(socket_dir))}
    log.warning("pg_cron is not installed (postgresql-15-cron): the rollups will not run")
    return dict(DURABLE_SETTINGS)


class LocalStack:
    """One local stack in ``settings.data_dir``."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The postgres OS user (when run as root) must reach its folder inside.
        os.chmod(self.data_dir, 0o755)  # noqa: S103
        self.keys: StackKeys = keys.load_or_create(self.data_dir)
        self.cluster = LocalCluster(
            cluster_dir(self.data_dir), settings.db_port, password=self.keys.db_password
        )
        if self.cluster.base_dir != self.data_dir / "postgres":
            log.warning(
                "PostgreSQL data kept in %s (reachable by the postgres user)",
                self.cluster.base_dir,
            )
        self.render_dir = self.data_dir / "renders"
        self.api_url = f"http://{settings.host}:{settings.port}"
        self._functions: functions.FunctionsServer | None = None

    @property
    def database_url(self) -> str:
        return self.cluster.url("postgres")

    def prepare(self, step: Callable[[str], None] = lambda _: None) -> StackKeys:
        """Start PostgreSQL and bring the database, seed and keys up to date."""
        step("starting PostgreSQL")
        self.cluster.start(server_settings("postgres", self.cluster.socket_dir))
        self.cluster.require_password()
        step("applying migrations")
        migrate.migrate(self.database_url)
        step("applying seed")
        apply_seed(self.database_url)
        self.render_dir.mkdir(parents=True, exist_ok=True)
        return self.keys

    def start_functions(self) -> str | None:
        """Start the HTTP functions (with the local render provider), if this checkout has them."""
        if not functions.available():
            log.warning("HTTP functions not found; /functions/v1 answers 404")
            return None
        server = functions.FunctionsServer(
            free_port(),
            functions_env(self.keys, self.api_url, self.database_url, self.render_dir),
            self.data_dir / "functions.log",
        )
        server.start()
        self._functions = server
        return server.url

    async def serve(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until ``stop`` is set, then shut every part down in order."""
        functions_url = await asyncio.to_thread(self.start_functions)
        config = GatewayConfig(
            keys=self.keys,
            public_url=self.api_url,
            database_url=self.database_url,
            functions_url=functions_url,
            render_dir=self.render_dir,
            refresh_token_reuse_interval=refresh_token_reuse_interval(),
            auth_rate_limits=auth_rate_limits(),
        )
        gateway = Gateway(config, self.settings.host, self.settings.port)
        background: list[asyncio.Task[None]] = []
        try:
            await gateway.start()
            if functions_url is not None:
                scheduler_secret = derived_secret(self.keys, "scheduler")
                listener = DispatchListener(self.database_url, functions_url, scheduler_secret)
                background.append(asyncio.create_task(listener.run()))
                background.append(
                    asyncio.create_task(
                        schedule.retry_dispatch_periodically(
                            functions_url, scheduler_secret, self.settings.retry_interval
                        )
                    )
                )
            StackState(os.getpid(), self.api_url, self.database_url, functions_url).write(
                self.data_dir
            )
            if on_ready is not None:
                on_ready()
            await stop.wait()
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await gateway.stop()
            if self._functions is not None:
                await asyncio.to_thread(self._functions.stop)

    def shutdown(self) -> None:
        """Stop PostgreSQL (fast shutdown: every committed transaction is kept)."""
        self.cluster.stop()
