"""JSON Web Tokens as GoTrue issues them and PostgREST checks them, over the one verification
of ``directorstudio.server.auth``: access tokens signed with the stack's EC key (ES256, ``kid``
in the header), the legacy API keys (and tokens of older releases) HS256 with the JWT secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jwt

from directorstudio.server.auth import AUDIENCE, TokenError, verify_token

if TYPE_CHECKING:
    from directorstudio.stack.keys import StackKeys

__all__ = ["AUDIENCE", "TokenError", "decode", "encode", "sign_access_token"]


def encode(claims: Mapping[str, Any], secret: str) -> str:
    """Sign ``claims`` with HS256 and ``secret`` (the legacy API keys)."""
    return jwt.encode(dict(claims), secret, algorithm="HS256")


def sign_access_token(claims: Mapping[str, Any], keys: StackKeys) -> str:
    """A user access token: ``claims`` signed with the stack's signing key (ES256)."""
    return keys.sign(dict(claims))


def decode(
    token: str, keys: StackKeys, *, now: float | None = None, audience: str = AUDIENCE
) -> dict[str, Any]:
    """The verified claims of ``token`` (ES256 by the stack's key, or HS256 by its JWT secret);
    :class:`TokenError` when it cannot be trusted (also when it names an audience other than
    ``audience``: the API keys name none)."""
    return verify_token(
        token,
        secret=keys.jwt_secret,
        keys=keys.verification_keys,
        now=now,
        audience=audience,
    )
