"""The two verdicts of the matrix, and how the gateway's routes map onto its rows.

- A refused credential: a documented 401/403 and not one row of any table changed.
- Another user's valid token: whatever the answer, no row the caller does not own changed, and
  a successful answer carries none of the victim's data (its id, its marker text, a ``user_id``
  other than the caller's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.api_stack import ApiStack, SeededUser
from tests.support.catalog import changed_tables
from tests.support.oracle import is_refusal

# Every route of the gateway and what the matrix does with it (a new route fails
# test_every_gateway_route_has_a_row_in_the_matrix until it is given one).
ROUTE_ROWS = {
    ("POST", "/rest/v1/rpc/{name}"): "rpc: every function of the catalog",
    ("GET", "/rest/v1/rpc/{name}"): "rpc: every function of the catalog",
    ("GET", "/rest/v1/{table}"): "tables: every exposed table of the catalog",
    ("POST", "/rest/v1/{table}"): "tables: every exposed table of the catalog",
    ("PATCH", "/rest/v1/{table}"): "tables: every exposed table of the catalog",
    ("DELETE", "/rest/v1/{table}"): "tables: every exposed table of the catalog",
    ("GET", "/auth/v1/user"): "auth endpoint that needs a session",
    ("PUT", "/auth/v1/user"): "auth endpoint that needs a session",
    ("POST", "/auth/v1/logout"): "auth endpoint that needs a session",
    ("POST", "/auth/v1/signup"): "public: creates a session",
    ("POST", "/auth/v1/token"): "public: exchanges credentials in the body for a session",
    ("DELETE", "/auth/v1/admin/users/{user_id}"): "service only: deletes a user",
    ("GET", "/auth/v1/health"): "public: no data",
    ("GET", "/auth/v1/.well-known/jwks.json"): "public: no data",
    ("GET", "/auth/v1/settings"): "public: no data",
    ("*", "/functions/v1/{name}"): "functions: every function of the router",
    ("GET", "/realtime/v1/websocket"): "realtime: joining a private user topic",
    ("POST", "/realtime/v1/api/broadcast"): "realtime: broadcasting to a private user topic",
    ("POST", "/realtime/v1/api/broadcast/{topic}/events/{event}"): (
        "realtime: broadcasting to a private user topic"
    ),
    ("GET", "/storage/v1/object/public/renders/{path}"): "public bucket: rendered clips",
}

Send = Callable[[], httpx.Response]


def refused_without_effect(stack: ApiStack, calls: list[tuple[str, Send]]) -> list[str]:
    """Why each of ``calls`` (description, request) was not a clean refusal: refused with a
    documented 401/403, and no row of any table changed by the group."""
    before = stack.digest()
    failures = []
    for describe, send in calls:
        reply = send()
        if not is_refusal(reply):
            failures.append(f"{describe}: not refused: {reply.status_code} {reply.text[:200]}")
    changed = changed_tables(before, stack.digest())
    if changed:
        failures.append(f"{calls[0][0]} and the rest of its group changed {changed}")
    return failures


def _user_ids(value: Any) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "user_id" and item is not None:
                found.append(str(item))
            found.extend(_user_ids(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_user_ids(item))
    return found


def _leak(reply: httpx.Response, attacker: SeededUser, victim: SeededUser, sent: str) -> str | None:
    if reply.status_code >= 500:
        return f"{reply.status_code} {reply.text[:200]}"
    if not reply.is_success or not reply.content:
        return None
    text = reply.text
    # The victim's id counts as leaked only when the caller did not send it: an echo of the
    # caller's own argument reveals nothing.
    if victim.marker in text or (victim.user_id in text and victim.user_id not in sent):
        return f"the answer carries the victim's data: {text[:300]}"
    try:
        body = json.loads(text)
    except ValueError:
        return None
    strangers = sorted(set(_user_ids(body)) - {attacker.user_id})
    return f"the answer carries rows of {strangers}" if strangers else None


def only_own_rows(
    stack: ApiStack,
    attacker: SeededUser,
    victim: SeededUser,
    calls: list[tuple[str, str, Send]],
) -> list[str]:
    """Why calls (description, what was sent, request) with ``attacker``'s token read or changed
    what the attacker does not own: the group changed no row of anyone else, and no successful
    answer carries the victim's data."""
    before = stack.digest(except_owner=attacker.user_id)
    failures = []
    for describe, sent, send in calls:
        leak = _leak(send(), attacker, victim, sent)
        if leak is not None:
            failures.append(f"{describe}: {leak}")
    changed = changed_tables(before, stack.digest(except_owner=attacker.user_id))
    if changed:
        failures.append(f"{calls[0][0]} and the rest of its group changed others' rows {changed}")
    return failures
