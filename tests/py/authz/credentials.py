"""The credentials of the authorization matrix: each way a caller can be wrong about who it is.

Every forged token carries the attacker's subject, so a gateway that accepted it would act as
the attacker, never as nobody.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.api_stack import ApiStack, SeededUser

OTHER_SECRET = "a-secret-of-another-project-with-more-than-32-bytes"


@dataclass(frozen=True)
class Credential:
    """How one row of the matrix calls: the apikey header and the bearer token it sends."""

    name: str
    apikey: str | None
    token: str | None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.apikey is not None:
            headers["apikey"] = self.apikey
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def claims_of(stack: ApiStack, user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 3600,
        "iss": stack.gateway.config.auth_issuer,
    }
    claims.update(overrides)
    return claims


Maker = Callable[[ApiStack, SeededUser], Credential]

# The refused credentials: each is the attacker's identity presented in a way that must fail.
REFUSED: dict[str, Maker] = {
    "no apikey": lambda stack, user: Credential("no apikey", None, None),
    "anon key only": lambda stack, user: Credential(
        "anon key only", stack.keys.anon_key, stack.keys.anon_key
    ),
    "expired token": lambda stack, user: Credential(
        "expired token",
        stack.keys.anon_key,
        stack.user_token(user.user_id, exp=int(time.time()) - 60, iat=int(time.time()) - 3660),
    ),
    "wrong secret": lambda stack, user: Credential(
        "wrong secret", stack.keys.anon_key, stack.user_token(user.user_id, secret=OTHER_SECRET)
    ),
    "alg none": lambda stack, user: Credential(
        "alg none", stack.keys.anon_key, unsigned_token(claims_of(stack, user.user_id))
    ),
    "wrong audience": lambda stack, user: Credential(
        "wrong audience", stack.keys.anon_key, stack.user_token(user.user_id, aud="another-app")
    ),
}


# Refused by the gateway's API-key check (rest, auth, realtime). The functions authenticate the
# bearer token themselves, as on hosted Supabase, so this row is not theirs.
WITHOUT_APIKEY: dict[str, Maker] = {
    "user token without apikey": lambda stack, user: Credential(
        "user token without apikey", None, user.token
    ),
}


def valid(stack: ApiStack, user: SeededUser) -> Credential:
    """The user's own, valid access token (another user's token, seen from the victim)."""
    return Credential("another user's token", stack.keys.anon_key, user.token)
