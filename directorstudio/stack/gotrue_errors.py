"""GoTrue's error replies, in the shape the request's API version asks for.

GoTrue answers a request carrying ``X-Supabase-Api-Version: 2024-01-01`` (or a later date, as
supabase-js and supabase-py send) with ``{"code": <error code>, "message": ...}`` and echoes the
version header; a request without it (or with an earlier or unparseable date) gets the initial
shape ``{"code": <HTTP status>, "error_code": <error code>, "msg": ...}``. Both clients read
either. A weak password adds ``weak_password: {"reasons": [...]}`` in both.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from directorstudio.stack.common import json_response

API_VERSION_NAME = "X-Supabase-Api-Version"
API_VERSION_2024_01_01 = "2024-01-01"
API_VERSION_HEADER = {API_VERSION_NAME: API_VERSION_2024_01_01}
# GoTrue's codes for the refusals aiohttp makes itself, before a handler runs.
HTTP_ERROR_CODES = {
    400: "validation_failed",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "over_request_rate_limit",
}
UNEXPECTED_FAILURE = "Unexpected failure, please check server logs for more information"


def api_version(headers: Mapping[str, str]) -> str | None:
    """The closest API version GoTrue knows at or before the requested one, or None for the
    initial version (no header, an unparseable date, a date before 2024-01-01)."""
    value = headers.get(API_VERSION_NAME, "").strip()
    try:
        requested = datetime.date.fromisoformat(value)
    except ValueError:
        return None
    if len(value) != len("2024-01-01") or requested < datetime.date(2024, 1, 1):
        return None
    return API_VERSION_2024_01_01


class AuthError(Exception):
    """A GoTrue error reply: HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}

    def body(self, version: str | None) -> dict[str, Any]:
        """The JSON body for a request of API ``version`` (None: the initial version)."""
        if version is None:
            body: dict[str, Any] = {
                "code": self.status,
                "error_code": self.code,
                "msg": self.message,
            }
        else:
            body = {"code": self.code, "message": self.message}
        body.update(self.extra)
        return body

    def response(self, request: web.BaseRequest) -> web.Response:
        """The reply to ``request``, in the shape of its API version."""
        version = api_version(request.headers)
        headers = {} if version is None else {API_VERSION_NAME: version}
        return json_response(self.body(version), status=self.status, headers=headers)


def unexpected_failure() -> AuthError:
    """GoTrue's answer to an error it did not expect (500, details only in the log)."""
    return AuthError(500, "unexpected_failure", UNEXPECTED_FAILURE)


def refusal(error: web.HTTPException, request: web.BaseRequest) -> web.Response:
    """aiohttp's own refusal of an ``/auth/v1`` request (no such path, wrong method, body too
    large) as GoTrue's error JSON."""
    code = HTTP_ERROR_CODES.get(error.status, "unexpected_failure")
    reply = AuthError(error.status, code, error.reason).response(request)
    if "Allow" in error.headers:
        reply.headers["Allow"] = error.headers["Allow"]
    return reply
