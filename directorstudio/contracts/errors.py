"""The documented error codes and the one root exception.

A contract function raises an error with a SQLSTATE that PostgREST maps to an HTTP status and
puts the code in the error's HINT. This table is the single source for both directions; a test
checks that the database's ``private.error_sqlstate`` agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code a caller can see."""

    INVALID_INPUT = "invalid_input"
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    VERSION_CONFLICT = "version_conflict"
    ID_CONFLICT = "id_conflict"
    INVALID_TRANSITION = "invalid_transition"
    STALE_ORDER = "stale_order"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


@dataclass(frozen=True)
class ErrorSpec:
    sqlstate: str
    http_status: int
    permanent: bool
    description: str


ERROR_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.INVALID_INPUT: ErrorSpec("22023", 400, True, "the request is malformed or invalid"),
    ErrorCode.NOT_AUTHENTICATED: ErrorSpec("PT401", 401, True, "no signed-in user"),
    ErrorCode.FORBIDDEN: ErrorSpec("42501", 403, True, "the caller may not do this"),
    ErrorCode.NOT_FOUND: ErrorSpec("PT404", 404, True, "no such row visible to the caller"),
    ErrorCode.INSUFFICIENT_CREDITS: ErrorSpec("PT402", 402, True, "not enough credits"),
    ErrorCode.VERSION_CONFLICT: ErrorSpec(
        "PT409", 409, True, "the row changed since the version the write was based on"
    ),
    ErrorCode.ID_CONFLICT: ErrorSpec(
        "PT409", 409, True, "the id was already used for a different request"
    ),
    ErrorCode.INVALID_TRANSITION: ErrorSpec(
        "PT409", 409, True, "the clip job cannot move to that state"
    ),
    ErrorCode.STALE_ORDER: ErrorSpec(
        "PT409", 409, True, "the ordered id list does not match the current scenes"
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorSpec("PT413", 413, True, "the request body is too large"),
    ErrorCode.UNAVAILABLE: ErrorSpec("08006", 503, False, "the service is unreachable"),
    ErrorCode.INTERNAL: ErrorSpec("XX000", 500, False, "an unexpected server error"),
}

# Raised by the database itself rather than by private.raise_error.
_SQLSTATE_CODES: dict[str, ErrorCode] = {
    "22023": ErrorCode.INVALID_INPUT,
    "22P02": ErrorCode.INVALID_INPUT,
    "22P05": ErrorCode.INVALID_INPUT,
    "22001": ErrorCode.INVALID_INPUT,
    "22003": ErrorCode.INVALID_INPUT,
    "22007": ErrorCode.INVALID_INPUT,
    "22008": ErrorCode.INVALID_INPUT,
    "23502": ErrorCode.INVALID_INPUT,
    "54000": ErrorCode.INVALID_INPUT,
    "23514": ErrorCode.INVALID_INPUT,
    "23503": ErrorCode.NOT_FOUND,
    "23505": ErrorCode.ID_CONFLICT,
    "42501": ErrorCode.FORBIDDEN,
    "42883": ErrorCode.NOT_FOUND,
    "PT401": ErrorCode.NOT_AUTHENTICATED,
    "PT402": ErrorCode.INSUFFICIENT_CREDITS,
    "PT404": ErrorCode.NOT_FOUND,
    "PT409": ErrorCode.VERSION_CONFLICT,
}


def code_for(sqlstate: str | None, hint: str | None = None) -> ErrorCode:
    """The error code of a database error: its HINT when that names a code, else its SQLSTATE."""
    if hint:
        try:
            return ErrorCode(hint)
        except ValueError:
            pass
    if sqlstate is None:
        return ErrorCode.INTERNAL
    if sqlstate in _SQLSTATE_CODES:
        return _SQLSTATE_CODES[sqlstate]
    if sqlstate.startswith(("08", "53", "57")):
        return ErrorCode.UNAVAILABLE
    return ErrorCode.INTERNAL


class DirectorStudioError(Exception):
    """Root of every error raised on purpose anywhere in DirectorStudio."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None, detail: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.detail = detail

    @property
    def http_status(self) -> int:
        return ERROR_SPECS[self.code].http_status

    @property
    def permanent(self) -> bool:
        """Whether retrying the same request can never succeed."""
        return ERROR_SPECS[self.code].permanent

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body
