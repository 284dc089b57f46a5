"""Public keys that access tokens may be signed with: a JSON Web Key Set given inline, or fetched
from the project's JWKS URL (``/auth/v1/.well-known/jwks.json``) and cached.

Only asymmetric public keys are ever used: an EC P-256 key for ES256, an RSA key for RS256. A
symmetric (``oct``) entry, a private part (``d``), a key meant for something else than verifying
signatures, or an entry without a ``kid`` is never a verification key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import jwt

# The algorithm of each asymmetric key type, as Supabase Auth signs with them.
KEY_TYPES = {"ES256": "EC", "RS256": "RSA"}
PUBLIC_FIELDS = {"EC": ("kty", "crv", "x", "y"), "RSA": ("kty", "n", "e")}
DEFAULT_CACHE_SECONDS = 300.0


class SigningKeySource(Protocol):
    """Finds the public key named by a token's ``kid`` (``jwt.PyJWKClient`` has this method)."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK: ...


def public_jwk(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """The public verification key of a JWK entry, or None when it is not one (no ``kid``, not
    EC/RSA, an algorithm other than its type's, a ``use`` other than ``sig``, ``key_ops``
    without ``verify``)."""
    kty = entry.get("kty")
    kid = entry.get("kid")
    if kty not in PUBLIC_FIELDS or not isinstance(kid, str) or not kid:
        return None
    algorithm = entry.get("alg")
    if algorithm is not None and KEY_TYPES.get(algorithm) != kty:
        return None
    if entry.get("use", "sig") != "sig":
        return None
    operations = entry.get("key_ops")
    if operations is not None and "verify" not in operations:
        return None
    if any(not isinstance(entry.get(name), str) for name in PUBLIC_FIELDS[kty]):
        return None
    if kty == "EC" and entry.get("crv") != "P-256":
        return None
    public = {name: entry[name] for name in PUBLIC_FIELDS[kty]}
    default_algorithm = "ES256" if kty == "EC" else "RS256"
    return {
        **public,
        "kid": kid,
        "alg": algorithm or default_algorithm,
        "use": "sig",
        "key_ops": ["verify"],
    }


class StaticKeySource:
    """The verification keys of one JWKS document (``{"keys": [...]}``), by ``kid``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ValueError("a JWKS document needs a list of keys")
        self._keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            public = public_jwk(entry) if isinstance(entry, Mapping) else None
            if public is not None:
                self._keys[public["kid"]] = jwt.PyJWK(public)

    @classmethod
    def from_json(cls, text: str) -> StaticKeySource:
        """The keys of a JWKS document written as JSON (``ValueError`` when it is not one)."""
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("a JWKS document is a JSON object")
        return cls(document)

    @property
    def key_ids(self) -> list[str]:
        """The ``kid`` of every verification key."""
        return list(self._keys)

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        """The key named by the token's ``kid`` (``jwt.PyJWKClientError`` when none is)."""
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.PyJWKClientError(f"no signing key with kid {kid!r}")
        return key


class ChainedKeySource:
    """The first of several sources that knows the token's key (inline keys, then the URL)."""

    def __init__(self, sources: Sequence[SigningKeySource]) -> None:
        self._sources = list(sources)

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        """The key named by the token's ``kid`` in the first source that has it."""
        failure: jwt.PyJWTError = jwt.PyJWKClientError("no key source")
        for source in self._sources:
            try:
                return source.get_signing_key_from_jwt(token)
            except jwt.PyJWTError as error:
                failure = error
        raise failure


def key_source(
    *,
    jwks_json: str | None = None,
    jwks_url: str | None = None,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
) -> SigningKeySource | None:
    """Where verification keys come from: an inline JWKS document, the JWKS URL (fetched by
    ``jwt.PyJWKClient``, the key set cached for ``cache_seconds``; an unknown ``kid`` fetches
    it again at most every 30 s), both (inline first), or neither (None)."""
    sources: list[SigningKeySource] = []
    if jwks_json:
        sources.append(StaticKeySource.from_json(jwks_json))
    if jwks_url:
        sources.append(
            jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=cache_seconds, timeout=10)
        )
    if not sources:
        return None
    return sources[0] if len(sources) == 1 else ChainedKeySource(sources)
