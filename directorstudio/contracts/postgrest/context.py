"""The request context PostgREST sets in each transaction, and its one SQL statement.

PostgREST runs every request in a transaction that first sets, transaction-locally, the search
path, the role of the JWT (``anon`` without one), ``request.jwt.claims`` (what ``auth.uid()``,
``auth.jwt()`` and ``auth.role()`` read), and the request's method, path and headers. Every part
that acts as the API does (the gateway, the functions' database layer, the client's direct
transport, realtime's authorisation checks) sets it through :func:`context_params` and
:data:`CONTEXT_SQL`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

API_ROLES = frozenset({"anon", "authenticated", "service_role"})
EXPOSED_SCHEMA = "public"
SEARCH_PATH = '"public", "extensions"'

# One statement for every context: the settings arrive as one JSON object, in order (json, not
# jsonb, keeps the order of its keys), so its text never changes (it can be composed into other
# statements once). set_config runs row by row. One JSON text costs a fraction of what two text
# arrays cost to quote.
CONTEXT_SQL = (
    "SELECT count(set_config(_setting.key, _setting.value, true))"
    " FROM json_each_text(%(pgrst_settings)s::json) AS _setting"
)


def claims_for_user(user_id: str, *, email: str | None = None) -> dict[str, Any]:
    """Minimal Supabase access-token claims for a signed-in user."""
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated", "email": email}


@dataclass(frozen=True)
class RequestContext:
    """Who calls and how: the role, its JWT claims and, over HTTP, the request itself.

    ``settings`` are further transaction-local settings (e.g. ``realtime.topic``).
    """

    role: str
    claims: Mapping[str, Any] | None = None
    method: str | None = None
    path: str | None = None
    headers: Mapping[str, str] | None = None
    settings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in API_ROLES:
            raise ValueError(f"not an API role: {self.role}")

    def pairs(self) -> list[tuple[str, str]]:
        """Every setting as (name, value), in the order PostgREST sets them."""
        claims = dict(self.claims) if self.claims is not None else {"role": self.role}
        pairs = [
            ("search_path", SEARCH_PATH),
            ("role", self.role),
            ("request.jwt.claims", json.dumps(claims, default=str)),
        ]
        if self.method is not None:
            pairs.append(("request.method", self.method))
        if self.path is not None:
            pairs.append(("request.path", self.path))
        if self.headers is not None:
            lowered = {key.lower(): value for key, value in self.headers.items()}
            pairs.append(("request.headers", json.dumps(lowered)))
        pairs.extend(self.settings.items())
        return pairs


def context_params(context: RequestContext) -> dict[str, str]:
    """The parameters of :data:`CONTEXT_SQL` for ``context``: ``pgrst_settings``, a JSON
    object of every setting in order."""
    return {"pgrst_settings": json.dumps(dict(context.pairs()))}


def apply(conn: psycopg.Connection[Any], context: RequestContext) -> None:
    """Set ``context`` for the current transaction of a sync connection."""
    conn.execute(CONTEXT_SQL, context_params(context))


async def apply_async(conn: psycopg.AsyncConnection[Any], context: RequestContext) -> None:
    """Set ``context`` for the current transaction of an async connection."""
    await conn.execute(CONTEXT_SQL, context_params(context))
