"""Which answers are documented: the README's error table (directorstudio/contracts/errors.py),
the HTTP-only codes of docs/functions.md and the PostgREST/GoTrue/gateway codes of docs/stack.md.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from directorstudio.contracts.errors import ERROR_SPECS, ErrorCode, code_for

# PostgREST's own codes the gateway answers with (docs/stack.md), and their statuses.
POSTGREST_CODES = {
    "PGRST100": 400,  # a query parameter that does not parse
    "PGRST102": 400,  # the body is not a JSON object (or its objects' keys differ)
    "PGRST106": 406,  # another schema requested
    "PGRST107": 406,  # a media type that is not served
    "PGRST116": 406,  # one object asked for, not one row found
    "PGRST117": 405,  # a method the route does not take
    "PGRST125": 404,  # no such route
    "PGRST202": 404,  # no function with these argument names
    "PGRST204": 400,  # no such column in a written body
    "PGRST205": 404,  # no such table or view
    "PGRST301": 401,  # bad token
    "PGRST303": 401,  # expired token
}
# The HTTP-only codes of the functions (docs/functions.md "Errors").
HTTP_ONLY_CODES = {
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
}
# GoTrue's refusals of a request without a usable access token (docs/stack.md).
GOTRUE_REFUSALS = {
    "no_authorization": 401,
    "bad_jwt": 403,
    "session_not_found": 403,
    "user_not_found": 403,
    "not_admin": 403,  # an admin endpoint called without the service key
}
# The API gateway's refusal of a request without a valid API key (hosted Supabase's shape).
API_KEY_MESSAGES = frozenset({"No API key found in request", "Invalid API key"})
# Realtime's REST broadcast refuses an untrusted token (401) or a private topic the caller may
# not write (403) with this body, as hosted Realtime does.
REALTIME_REFUSAL = {"message": "Unauthorized"}
CLIENT_CODES = frozenset(code for code in ErrorCode if ERROR_SPECS[code].http_status < 500)


def _json(reply: httpx.Response) -> Any:
    if not reply.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        return json.loads(reply.content)
    except ValueError:
        return None


def _rest_status_fits(code: ErrorCode, status: int) -> bool:
    if code in (ErrorCode.FORBIDDEN, ErrorCode.NOT_AUTHENTICATED):
        return status in (401, 403)  # PostgREST: 42501 is 401 for anon
    if code in (ErrorCode.ID_CONFLICT, ErrorCode.NOT_FOUND) and status == 409:
        return True  # PostgREST answers 23505/23503 with 409
    return ERROR_SPECS[code].http_status == status


def rest_problem(reply: httpx.Response) -> str | None:
    """Why an rpc answer is not documented (None when it is: 2xx, or a documented 4xx)."""
    if 200 <= reply.status_code < 300:
        return None
    body = _json(reply)
    if not isinstance(body, dict):
        return f"{reply.status_code} without a JSON error body"
    if reply.status_code == 401 and body.get("message") in API_KEY_MESSAGES:
        return None
    raw_code = str(body.get("code"))
    if raw_code in POSTGREST_CODES:
        if POSTGREST_CODES[raw_code] == reply.status_code:
            return None
        return f"{reply.status_code} {raw_code}: status not documented for this code"
    code = documented_code(raw_code, body.get("hint"))
    if code is None:
        return f"{reply.status_code} {raw_code} (hint {body.get('hint')!r}): undocumented code"
    if not _rest_status_fits(code, reply.status_code):
        return f"{reply.status_code} {raw_code}: {code} is documented with another status"
    return None


def documented_code(sqlstate: str, hint: Any) -> ErrorCode | None:
    """The README's code of a database error: its hint when that names a client code, else the
    code the error table (directorstudio/contracts/errors.py) gives its SQLSTATE; None when
    neither documents it."""
    code = code_for(sqlstate, hint if isinstance(hint, str) else None)
    return code if code in CLIENT_CODES else None


def function_problem(reply: httpx.Response) -> str | None:
    """Why an HTTP function's answer is not documented (None when it is)."""
    if 200 <= reply.status_code < 300:
        return None
    body = _json(reply)
    if not isinstance(body, dict) or "code" not in body:
        return f"{reply.status_code} without a JSON error body"
    code = str(body["code"])
    if code in HTTP_ONLY_CODES:
        expected = {HTTP_ONLY_CODES[code]}
    elif code in {str(known) for known in CLIENT_CODES}:
        spec = ERROR_SPECS[ErrorCode(code)]
        expected = (
            {spec.http_status, 422} if code == ErrorCode.INVALID_INPUT else {spec.http_status}
        )
    else:
        return f"{reply.status_code} {code}: undocumented code"
    if reply.status_code not in expected:
        return f"{reply.status_code} {code}: documented with status {sorted(expected)}"
    return None


def is_refusal(reply: httpx.Response) -> bool:
    """Whether ``reply`` is a documented 401/403 refusal of the caller (any surface)."""
    if reply.status_code not in (401, 403):
        return False
    body = _json(reply)
    if not isinstance(body, dict):
        return False
    # GoTrue's initial API shape puts the HTTP status in "code" and the code in "error_code".
    code = str(body.get("error_code") or body.get("code") or "")
    if body.get("message") in API_KEY_MESSAGES and reply.status_code == 401:
        return True
    if body == REALTIME_REFUSAL:
        return True
    if code in GOTRUE_REFUSALS:
        return GOTRUE_REFUSALS[code] == reply.status_code
    if code in ("PGRST301", "PGRST303"):
        return reply.status_code == 401
    if code in (ErrorCode.NOT_AUTHENTICATED, ErrorCode.FORBIDDEN):
        return reply.status_code == ERROR_SPECS[ErrorCode(code)].http_status
    documented = documented_code(code, body.get("hint"))
    return documented in (ErrorCode.NOT_AUTHENTICATED, ErrorCode.FORBIDDEN)
