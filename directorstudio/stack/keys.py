"""The local stack's JWT secret and API keys, generated once and kept in the data directory."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from directorstudio.stack import tokens

KEYS_FILE = "keys.json"
ISSUER = "supabase-demo"
KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True)
class StackKeys:
    """What a client needs besides the URL: the anon and service keys (and the secret)."""

    jwt_secret: str
    anon_key: str
    service_role_key: str

    @property
    def webhook_secret(self) -> str:
        """The Standard Webhooks secret (``whsec_...``) of render requests and render callbacks,
        derived from the JWT secret so it needs no storage of its own."""
        digest = hashlib.sha256(f"clip-webhook:{self.jwt_secret}".encode()).digest()
        return WEBHOOK_SECRET_PREFIX + base64.b64encode(digest).decode()


def api_key(role: str, secret: str, *, issued_at: int | None = None) -> str:
    """A long-lived API key: an HS256 JWT whose only privilege is its ``role``."""
    iat = int(time.time()) if issued_at is None else issued_at
    return tokens.encode(
        {"iss": ISSUER, "role": role, "iat": iat, "exp": iat + KEY_LIFETIME_SECONDS}, secret
    )


def generate() -> StackKeys:
    """A fresh secret and the two keys signed with it."""
    secret = secrets.token_urlsafe(48)
    return StackKeys(
        jwt_secret=secret,
        anon_key=api_key("anon", secret),
        service_role_key=api_key("service_role", secret),
    )


def load(data_dir: Path) -> StackKeys | None:
    """The keys kept in ``data_dir``, if any."""
    path = data_dir / KEYS_FILE
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return StackKeys(
        jwt_secret=raw["jwt_secret"],
        anon_key=raw["anon_key"],
        service_role_key=raw["service_role_key"],
    )


def load_or_create(data_dir: Path) -> StackKeys:
    """The stack's keys, created (readable by the owner only) on first use."""
    existing = load(data_dir)
    if existing is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    created = generate()
    path = data_dir / KEYS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(created), handle, indent=2)
    path.chmod(0o600)
    return created
