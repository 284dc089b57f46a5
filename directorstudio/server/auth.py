"""Verification of Supabase access tokens (and of the service and scheduler credentials).

Accepted: HS256 with the project's JWT secret, RS256/ES256 with keys from the project's JWKS
URL. Everything else (``alg: none``, other algorithms, bad signatures, expired tokens, another
audience or issuer, a missing subject or role) is ``not_authenticated``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

SYMMETRIC_ALGORITHMS = frozenset({"HS256"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
ALLOWED_ALGORITHMS = SYMMETRIC_ALGORITHMS | ASYMMETRIC_ALGORITHMS


class SigningKeySource(Protocol):
    """Where public keys come from (``jwt.PyJWKClient`` over the project's JWKS URL)."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK: ...


def not_authenticated(message: str = "invalid or missing access token") -> DirectorStudioError:
    """The one error every authentication failure becomes."""
    return DirectorStudioError(message, code=ErrorCode.NOT_AUTHENTICATED)


@dataclass(frozen=True)
class Caller:
    """A verified signed-in user: the claims become PostgREST's ``request.jwt.claims``."""

    user_id: str
    claims: Mapping[str, Any]


class TokenVerifier:
    """Checks bearer tokens against the project's secret or published keys."""

    def __init__(
        self,
        *,
        secret: str | None,
        keys: SigningKeySource | None = None,
        audience: str = "authenticated",
        issuer: str | None = None,
    ) -> None:
        self._secret = secret
        self._keys = keys
        self._audience = audience
        self._issuer = issuer

    @classmethod
    def from_jwks_url(
        cls, *, secret: str | None, jwks_url: str | None, audience: str, issuer: str | None
    ) -> TokenVerifier:
        """A verifier that fetches (and caches) public keys from ``jwks_url`` when given."""
        keys = jwt.PyJWKClient(jwks_url, timeout=10) if jwks_url else None
        return cls(secret=secret, keys=keys, audience=audience, issuer=issuer)

    def _decode(self, token: str, *, audience: str | None, require: list[str]) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise not_authenticated() from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise not_authenticated("token algorithm not accepted")
        key: Any
        if algorithm in SYMMETRIC_ALGORITHMS:
            if not self._secret:
                raise not_authenticated("token algorithm not accepted")
            key = self._secret
        else:
            if self._keys is None:
                raise not_authenticated("token algorithm not accepted")
            try:
                key = self._keys.get_signing_key_from_jwt(token)
            except jwt.PyJWTError:
                raise not_authenticated("token signed by an unknown key") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                issuer=self._issuer,
                options={"require": require, "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise not_authenticated("access token expired") from None
        except jwt.PyJWTError:
            raise not_authenticated() from None
        return claims

    def verify_user(self, token: str) -> Caller:
        """The signed-in user of a Supabase access token (role ``authenticated``)."""
        claims = self._decode(token, audience=self._audience, require=["exp", "sub"])
        if claims.get("role") != "authenticated":
            raise not_authenticated("token is not a signed-in user's")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise not_authenticated()
        return Caller(user_id=subject, claims=claims)

    def is_service_token(self, token: str) -> bool:
        """Whether ``token`` is a valid JWT with role ``service_role`` (the legacy service key)."""
        try:
            claims = self._decode(token, audience=None, require=["exp"])
        except DirectorStudioError:
            return False
        return claims.get("role") == "service_role"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value, or ``not_authenticated``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise not_authenticated("missing bearer token")
    return token.strip()


def secrets_equal(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an unset expected secret matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
