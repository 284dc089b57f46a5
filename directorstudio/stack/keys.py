"""The local stack's secrets, generated once and kept in the data directory: the legacy JWT
secret and the API keys signed with it, the database password, and the EC P-256 key pair that
signs access tokens (ES256, as new hosted projects do; its public half is the JWKS)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from directorstudio.server.jwks import StaticKeySource, public_jwk
from directorstudio.stack import tokens

KEYS_FILE = "keys.json"
ISSUER = "supabase-demo"
KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SIGNING_ALGORITHM = "ES256"


def generate_signing_key() -> dict[str, str]:
    """A fresh EC P-256 key pair as a private JWK with a ``kid`` (a UUID, as GoTrue names
    keys) and the fields of its public JWK."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, str] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private))
    return {**jwk, "kid": str(uuid.uuid4()), "alg": SIGNING_ALGORITHM, "use": "sig"}


@dataclass(frozen=True)
class StackKeys:
    """What a client needs besides the URL: the anon and service keys; and what the stack
    signs and verifies tokens with."""

    jwt_secret: str = field(repr=False)
    anon_key: str
    service_role_key: str = field(repr=False)
    db_password: str = field(repr=False)
    # The private JWK of the access-token signing key (None in a keys file written before the
    # stack signed with one: the next ``up`` adds it).
    signing_key: dict[str, str] | None = field(default=None, repr=False)

    @property
    def webhook_secret(self) -> str:
        """The Standard Webhooks secret (``whsec_...``) of render requests and render callbacks,
        derived from the JWT secret so it needs no storage of its own."""
        digest = hashlib.sha256(f"clip-webhook:{self.jwt_secret}".encode()).digest()
        return WEBHOOK_SECRET_PREFIX + base64.b64encode(digest).decode()

    @property
    def signing_key_id(self) -> str | None:
        """The ``kid`` access tokens carry in their header."""
        return None if self.signing_key is None else self.signing_key["kid"]

    @property
    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWKS (``/auth/v1/.well-known/jwks.json``): the signing key's public half."""
        public = None if self.signing_key is None else public_jwk(self.signing_key)
        return {"keys": [] if public is None else [public]}

    @cached_property
    def verification_keys(self) -> StaticKeySource:
        """The public keys user tokens are verified with (besides the legacy JWT secret)."""
        return StaticKeySource(self.jwks)

    @cached_property
    def private_signing_key(self) -> Any:
        """The signing key as a key object (``ValueError`` when the keys have none)."""
        if self.signing_key is None:
            raise ValueError("these stack keys have no signing key; start the stack once")
        return jwt.PyJWK(self.signing_key).key

    def sign(self, claims: dict[str, Any]) -> str:
        """An access token: ``claims`` signed with ES256, ``kid`` in the header."""
        return jwt.encode(
            claims,
            self.private_signing_key,
            algorithm=SIGNING_ALGORITHM,
            headers={"kid": self.signing_key_id},
        )


def api_key(role: str, secret: str, *, issued_at: int | None = None) -> str:
    """A long-lived API key: an HS256 JWT whose only privilege is its ``role``."""
    iat = int(time.time()) if issued_at is None else issued_at
    return tokens.encode(
        {"iss": ISSUER, "role": role, "iat": iat, "exp": iat + KEY_LIFETIME_SECONDS}, secret
    )


def generate() -> StackKeys:
    """A fresh secret, the two keys signed with it, a database password and a signing key."""
    secret = secrets.token_urlsafe(48)
    return StackKeys(
        jwt_secret=secret,
        anon_key=api_key("anon", secret),
        service_role_key=api_key("service_role", secret),
        db_password=secrets.token_urlsafe(24),
        signing_key=generate_signing_key(),
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
        # Keys written before the database had a password get one on the next start.
        db_password=raw.get("db_password", ""),
        signing_key=raw.get("signing_key"),
    )


def load_or_create(data_dir: Path) -> StackKeys:
    """The stack's keys, created (readable by the owner only) on first use; a keys file of an
    older release gets what it lacks (the database password, the signing key) and keeps the
    rest, so tokens and keys issued before stay valid."""
    existing = load(data_dir)
    if existing is not None and existing.db_password and existing.signing_key is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    created = generate()
    if existing is not None:
        created = replace(
            existing,
            db_password=existing.db_password or created.db_password,
            signing_key=existing.signing_key or created.signing_key,
        )
    _write(data_dir, created)
    return created


def _write(data_dir: Path, created: StackKeys) -> None:
    path = data_dir / KEYS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(created), handle, indent=2)
    path.chmod(0o600)
