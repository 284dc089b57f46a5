"""Request bodies of the auth endpoints: read within the input limits, refused as GoTrue does."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.stack.common import read_json
from directorstudio.stack.gotrue import AuthError

# Reasons of directorstudio.server.limits that GoTrue reports as an unparseable body.
UNPARSEABLE = frozenset({"not_json", "too_deep", "not_finite"})
STRING_FIELDS = ("email", "password", "phone", "refresh_token")


def bad_json(message: str = "Could not parse request body as JSON") -> AuthError:
    """GoTrue's refusal of a body that does not parse."""
    return AuthError(400, "bad_json", message)


async def read_auth_json(request: web.Request) -> dict[str, Any]:
    """The body as an object within the input limits, with GoTrue's errors: ``bad_json`` (400)
    for what does not parse (or has a field of the wrong type), ``validation_failed`` (400) for
    forbidden characters or lengths, ``payload_too_large`` (413)."""
    try:
        body = await read_json(request)
    except DirectorStudioError as error:
        reason = error.detail.get("reason") if isinstance(error.detail, dict) else None
        if error.code == ErrorCode.PAYLOAD_TOO_LARGE:
            raise AuthError(413, str(error.code), error.message) from None
        if reason in UNPARSEABLE:
            raise bad_json(f"Could not parse request body as JSON: {error.message}") from None
        raise AuthError(400, "validation_failed", error.message) from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_json()
    for name in STRING_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_json(f"Could not parse request body as JSON: {name} must be a string")
    if body.get("data") is not None and not isinstance(body["data"], dict):
        raise bad_json("Could not parse request body as JSON: data must be an object")
    return body
