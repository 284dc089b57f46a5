"""Verification of Supabase access tokens, the one home of it for the functions and the local
stack's gateway (and of the service and scheduler credentials).

Accepted: HS256 with the project's JWT secret (the legacy API keys, and user tokens of a project
still signing with it), ES256/RS256 with a public key of the project's JWKS named by the token's
``kid``. Everything else is refused: ``alg: none`` and any other algorithm, an HS256 token when
no secret is configured (so a token "signed" with a public key as HMAC secret never verifies),
an asymmetric token whose ``kid`` names no published key or a key of another type, bad
signatures, expired tokens, another audience or issuer, a missing required claim.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.server.jwks import KEY_TYPES, SigningKeySource, key_source

SYMMETRIC_ALGORITHMS = frozenset({"HS256"})
ASYMMETRIC_ALGORITHMS = frozenset(KEY_TYPES)
ALLOWED_ALGORITHMS = SYMMETRIC_ALGORITHMS | ASYMMETRIC_ALGORITHMS
# The audience of Supabase user access tokens.
AUDIENCE = "authenticated"

Reason = Literal["malformed", "algorithm", "unknown_key", "signature", "claims", "expired"]
# What the functions answer for each reason (PostgREST's wording stays with the gateway).
FUNCTION_MESSAGES: dict[Reason, str] = {
    "malformed": "invalid or missing access token",
    "algorithm": "token algorithm not accepted",
    "unknown_key": "token signed by an unknown key",
    "signature": "invalid or missing access token",
    "claims": "invalid or missing access token",
    "expired": "access token expired",
}


class TokenError(DirectorStudioError):
    """A token that cannot be trusted; ``reason`` says why, ``message`` in PostgREST's words."""

    code = ErrorCode.NOT_AUTHENTICATED

    def __init__(self, message: str, reason: Reason) -> None:
        super().__init__(message)
        self.reason: Reason = reason

    @property
    def expired(self) -> bool:
        """Whether the token was valid but is past its ``exp``."""
        return self.reason == "expired"


def not_authenticated(message: str = "invalid or missing access token") -> DirectorStudioError:
    """The one error every authentication failure of the functions becomes."""
    return DirectorStudioError(message, code=ErrorCode.NOT_AUTHENTICATED)


def _verification_key(token: str, secret: str | None, keys: SigningKeySource | None) -> Any:
    """The key to check ``token``'s signature with, chosen by its header and never by anything
    the token could choose beyond an allowed algorithm and a published ``kid``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("JWSError JWSInvalidSignature", "malformed") from None
    algorithm = header.get("alg")
    if algorithm in SYMMETRIC_ALGORITHMS and secret:
        return algorithm, secret
    if algorithm not in ASYMMETRIC_ALGORITHMS or keys is None:
        raise TokenError("JWSError (JWSAlgNotSupported)", "algorithm")
    try:
        jwk = keys.get_signing_key_from_jwt(token)
    except (jwt.PyJWTError, OSError, ValueError):
        raise TokenError("JWSError (JWKNotFound)", "unknown_key") from None
    if jwk.key_type != KEY_TYPES[algorithm] or jwk.algorithm_name != algorithm:
        raise TokenError("JWSError (JWSAlgNotSupported)", "algorithm")
    return algorithm, jwk.key


def _check_audience(claims: Mapping[str, Any], audience: str, required: bool) -> None:
    named = claims.get("aud")
    if named is None and not required:
        return
    if audience not in (named if isinstance(named, list) else [named]):
        raise TokenError("JWT not in audience", "claims")


def verify_token(
    token: str,
    *,
    secret: str | None,
    keys: SigningKeySource | None = None,
    now: float | None = None,
    audience: str | None = AUDIENCE,
    audience_required: bool = False,
    issuer: str | None = None,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The verified claims of ``token``, or :class:`TokenError`.

    ``audience``: a token naming an audience must name this one (and must name one when
    ``audience_required``); None skips the check. ``issuer``: the required ``iss`` when given.
    ``required``: claims that must be present. ``exp`` is checked against ``now`` (default:
    the system clock) when present.
    """
    algorithm, key = _verification_key(token, secret, keys)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError:
        raise TokenError("JWSError JWSInvalidSignature", "signature") from None
    if not isinstance(claims, dict):
        raise TokenError("JWSError JWSInvalidSignature", "signature")
    missing = [name for name in required if claims.get(name) in (None, "")]
    if missing:
        raise TokenError(f"JWT is missing the claim {missing[0]}", "claims")
    if audience is not None:
        _check_audience(claims, audience, audience_required)
    if issuer is not None and claims.get("iss") != issuer:
        raise TokenError("JWT issuer not accepted", "claims")
    exp = claims.get("exp")
    current = time.time() if now is None else now
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, int | float)):
        raise TokenError("JWT has an invalid exp claim", "claims")
    if is_expired(claims, current):
        raise TokenError("JWT expired", "expired")
    return claims


def is_expired(claims: Mapping[str, Any], now: float) -> bool:
    """Whether verified ``claims`` are past their ``exp`` at ``now`` (no ``exp``: never)."""
    exp = claims.get("exp")
    return exp is not None and exp <= now


@dataclass(frozen=True)
class Caller:
    """A verified signed-in user: the claims become PostgREST's ``request.jwt.claims``."""

    user_id: str
    claims: Mapping[str, Any]


class TokenVerifier:
    """Checks the functions' bearer tokens against the project's secret or published keys."""

    def __init__(
        self,
        *,
        secret: str | None,
        keys: SigningKeySource | None = None,
        audience: str = AUDIENCE,
        issuer: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._keys = keys
        self._audience = audience
        self._issuer = issuer
        self._clock = clock

    @classmethod
    def from_jwks_url(
        cls,
        *,
        secret: str | None,
        jwks_url: str | None,
        audience: str,
        issuer: str | None,
        jwks_json: str | None = None,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> TokenVerifier:
        """A verifier with the public keys of ``jwks_json`` (a JWKS document) and of
        ``jwks_url`` (fetched and cached for ``cache_seconds``) when given."""
        try:
            keys = key_source(jwks_json=jwks_json, jwks_url=jwks_url, cache_seconds=cache_seconds)
        except ValueError:
            raise DirectorStudioError(
                "SUPABASE_JWKS is not a JWKS document", code=ErrorCode.INTERNAL
            ) from None
        return cls(secret=secret, keys=keys, audience=audience, issuer=issuer, clock=clock)

    def _verify(self, token: str, *, audience: str | None, required: list[str]) -> dict[str, Any]:
        try:
            return verify_token(
                token,
                secret=self._secret,
                keys=self._keys,
                now=self._clock(),
                audience=audience,
                audience_required=True,
                issuer=self._issuer,
                required=required,
            )
        except TokenError as error:
            raise not_authenticated(FUNCTION_MESSAGES[error.reason]) from None

    def verify_user(self, token: str) -> Caller:
        """The signed-in user of a Supabase access token (role ``authenticated``)."""
        claims = self._verify(token, audience=self._audience, required=["exp", "sub"])
        if claims.get("role") != "authenticated":
            raise not_authenticated("token is not a signed-in user's")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise not_authenticated()
        return Caller(user_id=subject, claims=claims)

    def is_service_token(self, token: str) -> bool:
        """Whether ``token`` is a valid JWT with role ``service_role`` (the legacy service key)."""
        try:
            claims = self._verify(token, audience=None, required=["exp"])
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
