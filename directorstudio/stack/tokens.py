"""JSON Web Tokens as GoTrue issues them and PostgREST checks them, over the one verification
of ``directorstudio.server.auth``: access tokens signed with the stack's EC key (ES256, ``kid``
in the header), the legacy API keys (and tokens of older releases) HS256 with the JWT secret."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jwt

from directorstudio.server.auth import AUDIENCE, TokenError, is_expired, verify_token

if TYPE_CHECKING:
    from directorstudio.stack.keys import StackKeys

__all__ = ["AUDIENCE", "TokenError", "VerifiedTokens", "decode", "encode", "sign_access_token"]


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


class VerifiedTokens:
    """The claims of tokens already verified, so a client's every request does not pay for a
    signature check: a token's claims are kept while it is unexpired, for the keys it was
    verified with, and the least recently used are dropped beyond ``size``.

    A hit still checks ``exp`` against the clock; an expired, unknown or differently keyed
    token goes through :func:`decode`, so every refusal is the one :func:`decode` gives.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[StackKeys, dict[str, Any]]] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, token: object) -> bool:
        with self._lock:
            return any(kept == token for kept, _ in self._entries)

    def decode(
        self, token: str, keys: StackKeys, *, now: float, audience: str = AUDIENCE
    ) -> dict[str, Any]:
        """What :func:`decode` answers for ``token``, from memory when it was verified before."""
        key = (token, audience)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                verified_with, claims = entry
                if verified_with is keys and not is_expired(claims, now):
                    self._entries.move_to_end(key)
                    return dict(claims)
                del self._entries[key]
        claims = decode(token, keys, now=now, audience=audience)
        with self._lock:
            self._entries[key] = (keys, dict(claims))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return claims
