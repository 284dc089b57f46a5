"""HS256 JSON Web Tokens, the way GoTrue and PostgREST use them with a legacy JWT secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from directorstudio.errors import DirectorStudioError, ErrorCode

# The audience of Supabase access tokens. Like PostgREST's ``jwt-aud``, a token that names an
# audience must name this one; the API keys name none.
AUDIENCE = "authenticated"


class TokenError(DirectorStudioError):
    """A token that cannot be trusted: malformed, badly signed or expired."""

    code = ErrorCode.NOT_AUTHENTICATED

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padding = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + padding)


def encode(claims: Mapping[str, Any], secret: str) -> str:
    """Sign ``claims`` with HS256."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def decode(
    token: str, secret: str, *, now: float | None = None, audience: str = AUDIENCE
) -> dict[str, Any]:
    """The verified claims of ``token``; :class:`TokenError` when it cannot be trusted (also
    when it names an audience other than ``audience``)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("Expected 3 parts in JWT; got " + str(len(parts)))
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, UnicodeDecodeError) as error:
        raise TokenError("JWSError JWSInvalidSignature") from error
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("JWSError (JWSAlgNotSupported)")
    expected = hmac.new(
        secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, signature):
        raise TokenError("JWSError JWSInvalidSignature")
    if not isinstance(claims, dict):
        raise TokenError("JWSError JWSInvalidSignature")
    named = claims.get("aud")
    if named is not None and audience not in (named if isinstance(named, list) else [named]):
        raise TokenError("JWT not in audience")
    exp = claims.get("exp")
    current = time.time() if now is None else now
    if exp is not None and (not isinstance(exp, int | float) or exp <= current):
        raise TokenError("JWT expired", expired=True)
    return claims
