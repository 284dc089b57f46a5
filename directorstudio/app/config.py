"""Where the app connects and keeps its cache: given on the command line, else the local
stack's URL and anon key (its ``keys.json`` and state file)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from directorstudio.errors import DirectorStudioError, ErrorCode
from directorstudio_client.clock import Clock, SystemClock

LOCAL_URL = "http://127.0.0.1:54321"
POLL_INTERVAL = 10.0  # the specification's polling fallback when realtime is down


class AppConfigError(DirectorStudioError):
    """The app cannot tell where to connect."""

    code = ErrorCode.INVALID_INPUT


@dataclass(frozen=True)
class AppConfig:
    """One app instance: the backend, the folder of its cache, and injected time.

    ``cache_dir`` holds one folder per backend (``<host>-<port>-<hash>``) with the stored
    session (``session.json``) and, per user, the SQLite cache (``cache.db``) and the
    downloaded clips (``clips/<job id>.mp4``).
    """

    url: str
    anon_key: str
    cache_dir: Path
    email: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    poll_interval: float = POLL_INTERVAL

    @property
    def backend_dir(self) -> Path:
        """This backend's folder inside the cache folder."""
        parts = urlsplit(self.url)
        host = re.sub(r"[^A-Za-z0-9.]+", "_", parts.hostname or "backend")
        digest = hashlib.sha256(self.url.rstrip("/").encode()).hexdigest()[:8]
        return self.cache_dir / f"{host}-{parts.port or 'default'}-{digest}"

    def user_dir(self, user_id: str) -> Path:
        """One user's cache and clips on this backend."""
        return self.backend_dir / "users" / user_id


def local_stack_defaults(data_dir: Path) -> tuple[str, str | None]:
    """The local stack's API URL and anon key, from its data folder (the URL defaults to the
    stack's standard port when the stack is not running; the key is ``None`` without one)."""
    from directorstudio.stack.keys import load
    from directorstudio.stack.state import read_state

    state = read_state(data_dir)
    keys = load(data_dir)
    return (state.api_url if state else LOCAL_URL), (keys.anon_key if keys else None)


def resolve(
    *, url: str | None, anon_key: str | None, data_dir: Path, cache_dir: Path | None,
    email: str | None = None,
) -> AppConfig:  # fmt: skip
    """The configuration for the given options; the local stack fills in what is missing."""
    stack_url, stack_key = local_stack_defaults(data_dir)
    key = anon_key or (stack_key if url in (None, stack_url) else None)
    if not key:
        raise AppConfigError(
            "no anon key: give --anon-key, or start the local stack (scripts/up.sh) so that "
            f"{data_dir}/keys.json exists"
        )
    return AppConfig(
        url=(url or stack_url).rstrip("/"),
        anon_key=key,
        cache_dir=cache_dir or data_dir / "app",
        email=email,
    )
