"""HTTP plumbing shared by the functions: body reading, validation and JSON error responses.

Every error leaves as ``{"code", "message"}`` (plus ``detail`` when there is one) with the
status of its code (directorstudio.contracts.errors.ERROR_SPECS); a few errors exist only at the
HTTP layer (415, 405, 422 for a body that fails validation). The limits every JSON body must keep
(size, depth, finite numbers, no NUL, string and array lengths) live in
directorstudio.server.limits, which the local gateway uses too.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import flask
import pydantic

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.server import limits

log = logging.getLogger("directorstudio.server")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
Handler = Callable[[flask.Request], flask.Response]


class HttpError(DirectorStudioError):
    """An error that only the HTTP layer knows: its own code string and status."""

    def __init__(self, message: str, *, status: int, http_code: str, detail: Any = None) -> None:
        super().__init__(message, code=ErrorCode.INVALID_INPUT, detail=detail)
        self.status = status
        self.http_code = http_code

    @property
    def http_status(self) -> int:
        return self.status

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["code"] = self.http_code
        return body


def json_response(body: Any, status: int = 200) -> flask.Response:
    """A JSON response (datetimes and UUIDs as strings)."""
    return flask.Response(
        json.dumps(body, default=str, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )


def error_response(error: DirectorStudioError) -> flask.Response:
    """The JSON error body and status of ``error``."""
    return json_response(error.to_json(), error.http_status)


def require_method(request: flask.Request, method: str = "POST") -> None:
    """405 unless the request uses ``method``."""
    if request.method != method:
        raise HttpError(f"use {method}", status=405, http_code="method_not_allowed", detail=None)


def read_body(request: flask.Request, max_bytes: int) -> bytes:
    """The raw body (at most ``max_bytes``: ``payload_too_large`` beyond), which must be
    declared JSON (415)."""
    if request.mimetype != "application/json":
        raise HttpError(
            "the body must be application/json", status=415, http_code="unsupported_media_type"
        )
    limits.check_size(request.content_length, max_bytes)
    body = request.stream.read(max_bytes + 1)
    limits.check_size(len(body), max_bytes)
    return body


def parse_body(raw: bytes, model: type[ModelT]) -> ModelT:
    """``raw`` as ``model``: 400 for bytes that break the JSON limits (directorstudio.server.
    limits) or are not a JSON object, 422 for invalid fields."""
    data = limits.load_json(raw)
    if not isinstance(data, dict):
        raise DirectorStudioError("the body must be a JSON object", code=ErrorCode.INVALID_INPUT)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [
            {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise HttpError(
            "the body is invalid", status=422, http_code="invalid_input", detail=problems
        ) from None


def read_model(request: flask.Request, model: type[ModelT], max_bytes: int) -> ModelT:
    """A POSTed JSON body validated as ``model``."""
    require_method(request)
    return parse_body(read_body(request, max_bytes), model)


def read_optional_model(request: flask.Request, model: type[ModelT], max_bytes: int) -> ModelT:
    """Like ``read_model``, but an empty body (with or without a content type) is ``model()``."""
    require_method(request)
    if not request.content_length and not request.mimetype:
        return model()
    raw = read_body(request, max_bytes)
    return parse_body(raw, model) if raw.strip() else model()


def endpoint(handler: Handler) -> Handler:
    """Turn every error of ``handler`` into a JSON error response; hide unexpected ones."""

    @functools.wraps(handler)
    def wrapped(request: flask.Request) -> flask.Response:
        try:
            return handler(request)
        except DirectorStudioError as error:
            if error.http_status >= 500:
                log.warning("%s failed: %s (%s)", handler.__name__, error.code, error.message)
            return error_response(error)
        except Exception:
            log.exception("%s failed unexpectedly", handler.__name__)
            return error_response(
                DirectorStudioError("an unexpected server error", code=ErrorCode.INTERNAL)
            )

    return wrapped
