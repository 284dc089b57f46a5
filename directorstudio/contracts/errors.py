"""The error table: every documented error code, and what every database error means.

This module is the single source of the error mapping. For each :class:`ErrorCode` it holds the
SQLSTATE a contract function raises it with (the code itself travels in the error's HINT), the
HTTP status, and whether retrying the same request can succeed (transient) or not (permanent).
For each SQLSTATE a client can provoke it holds the documented code it means and the HTTP status
PostgREST answers with over ``rpc``. Generated from it (``directorstudio errors write``):
``sql/functions/00_errors.sql`` (the database's mapping functions) and README's error tables;
tests fail when either drifts. The gateway, the functions and the client transports all look
errors up here.

The API: :class:`ErrorCode`, :func:`spec_for` (by code), :func:`code_for` (by SQLSTATE and
hint), :func:`rule_for` and :func:`rest_status` (by SQLSTATE), and the root exception
:class:`DirectorStudioError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code a caller can see."""

    INVALID_INPUT = "invalid_input"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    VERSION_CONFLICT = "version_conflict"
    ID_CONFLICT = "id_conflict"
    INVALID_TRANSITION = "invalid_transition"
    STALE_ORDER = "stale_order"
    TRY_AGAIN = "try_again"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


@dataclass(frozen=True)
class ErrorSpec:
    """What one error code means: how it is raised, answered and retried."""

    sqlstate: str
    http_status: int
    permanent: bool
    description: str

    @property
    def transient(self) -> bool:
        """Whether the same request may succeed when retried."""
        return not self.permanent


ERROR_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.INVALID_INPUT: ErrorSpec(
        "22023", 400, True, "malformed or invalid request; nothing changed"
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorSpec(
        "PT413", 413, True, "the request (body, text, array or nesting) is too large"
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(
        "PT415", 415, True, "the body is not declared as application/json"
    ),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(
        "PT405", 405, True, "the endpoint does not take this HTTP method"
    ),
    ErrorCode.NOT_AUTHENTICATED: ErrorSpec("PT401", 401, True, "no signed-in user"),
    ErrorCode.FORBIDDEN: ErrorSpec("42501", 403, True, "the caller may not do this"),
    ErrorCode.NOT_FOUND: ErrorSpec("PT404", 404, True, "no such row visible to the caller"),
    ErrorCode.INSUFFICIENT_CREDITS: ErrorSpec(
        "PT402", 402, True, "not enough credits; nothing created"
    ),
    ErrorCode.VERSION_CONFLICT: ErrorSpec(
        "PT409",
        409,
        True,
        "the row changed since the write's base version (details: current row, fields)",
    ),
    ErrorCode.ID_CONFLICT: ErrorSpec(
        "PT409", 409, True, "the id was already used for a different request"
    ),
    ErrorCode.INVALID_TRANSITION: ErrorSpec(
        "PT409", 409, True, "the clip job cannot move to that state"
    ),
    ErrorCode.STALE_ORDER: ErrorSpec(
        "PT409", 409, True, "a reorder's id list does not match the current scenes"
    ),
    ErrorCode.TRY_AGAIN: ErrorSpec(
        "PT503",
        503,
        False,
        "a concurrent transaction, a lock or a timeout got in the way; nothing changed",
    ),
    ErrorCode.UNAVAILABLE: ErrorSpec(
        "08006", 503, False, "the service or the database is unreachable or overloaded"
    ),
    ErrorCode.INTERNAL: ErrorSpec(
        "XX000", 500, True, "an unexpected server error; reported, not retried"
    ),
}


@dataclass(frozen=True)
class SqlstateRule:
    """What the database errors matching ``pattern`` mean.

    ``pattern`` is a whole SQLSTATE (``23505``) or its two-character class (``08``); a whole
    SQLSTATE wins over its class. ``rest_status`` is the HTTP status PostgREST answers with.
    """

    pattern: str
    code: ErrorCode
    rest_status: int
    raised_when: str


def _rule(pattern: str, code: ErrorCode, rest_status: int, raised_when: str) -> SqlstateRule:
    return SqlstateRule(pattern, code, rest_status, raised_when)


_I, _T = ErrorCode.INVALID_INPUT, ErrorCode.INTERNAL

SQLSTATE_RULES: tuple[SqlstateRule, ...] = (
    # Raised by the contract functions themselves (private.raise_error).
    _rule("22023", _I, 400, "a contract function rejects its input (invalid_input)"),
    _rule("PT401", ErrorCode.NOT_AUTHENTICATED, 401, "no signed-in user"),
    _rule("PT402", ErrorCode.INSUFFICIENT_CREDITS, 402, "not enough credits"),
    _rule("PT404", ErrorCode.NOT_FOUND, 404, "no such row visible to the caller"),
    _rule("PT409", ErrorCode.VERSION_CONFLICT, 409, "a conflict (the HINT names which)"),
    _rule("PT413", ErrorCode.PAYLOAD_TOO_LARGE, 413, "a contract function's size limit"),
    _rule("PT405", ErrorCode.METHOD_NOT_ALLOWED, 405, "an HTTP method the endpoint refuses"),
    _rule("PT415", ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415, "a body that is not JSON"),
    _rule("PT503", ErrorCode.TRY_AGAIN, 503, "a contract function asks for a retry"),
    # Bad input the database itself rejects.
    _rule("22P02", _I, 400, "invalid text for a type (uuid, integer, boolean, json ...)"),
    _rule("22P05", _I, 400, "a character text cannot hold (\\u0000 in JSON)"),
    _rule("22021", _I, 400, "a byte sequence invalid in UTF-8 (a NUL byte)"),
    _rule("22001", _I, 400, "a text too long for its column"),
    _rule("22003", _I, 400, "a number out of its type's range"),
    _rule("22007", _I, 400, "an invalid date or time"),
    _rule("22008", _I, 400, "a date or time field out of range"),
    _rule("22012", _I, 400, "a division by zero"),
    _rule("22", _I, 400, "any other data exception"),
    _rule("23502", _I, 400, "a required value is missing"),
    _rule("23514", _I, 400, "a check constraint is violated"),
    _rule("23503", ErrorCode.NOT_FOUND, 409, "a referenced row does not exist"),
    _rule("23505", ErrorCode.ID_CONFLICT, 409, "a unique key is already taken"),
    _rule("23", _I, 400, "any other integrity constraint"),
    _rule("54000", ErrorCode.PAYLOAD_TOO_LARGE, 500, "a value exceeds a database size limit"),
    _rule("54001", ErrorCode.PAYLOAD_TOO_LARGE, 500, "input nested too deeply (stack depth)"),
    _rule("54", ErrorCode.PAYLOAD_TOO_LARGE, 500, "any other program limit"),
    _rule("25006", _I, 405, "a write attempted in a read-only (GET) call"),
    _rule("25", _T, 500, "an invalid transaction state"),
    # Permission and missing objects.
    _rule("42501", ErrorCode.FORBIDDEN, 403, "insufficient privilege (401 for anon)"),
    _rule("42883", ErrorCode.NOT_FOUND, 404, "no such function"),
    _rule("42P01", ErrorCode.NOT_FOUND, 404, "no such table"),
    _rule("42703", _I, 400, "no such column (a table endpoint's select, filter or order)"),
    _rule("42P10", _I, 400, "an on_conflict target without a unique key"),
    _rule("42P17", _T, 500, "infinite recursion in a definition"),
    _rule("28", ErrorCode.FORBIDDEN, 403, "an invalid authorization"),
    _rule("0L", ErrorCode.FORBIDDEN, 403, "an invalid grantor"),
    _rule("0P", ErrorCode.FORBIDDEN, 403, "an invalid role"),
    # Concurrency and load: nothing changed, the same request may succeed later.
    _rule("40001", ErrorCode.TRY_AGAIN, 500, "a serialization failure"),
    _rule("40P01", ErrorCode.TRY_AGAIN, 500, "a deadlock"),
    _rule("40", ErrorCode.TRY_AGAIN, 500, "any other transaction rollback"),
    _rule("55P03", ErrorCode.TRY_AGAIN, 500, "a lock not available"),
    _rule("57014", ErrorCode.TRY_AGAIN, 500, "a statement canceled or timed out"),
    _rule("57P01", ErrorCode.UNAVAILABLE, 503, "the server is shutting down"),
    _rule("57", ErrorCode.UNAVAILABLE, 500, "any other operator intervention"),
    _rule("08", ErrorCode.UNAVAILABLE, 503, "a connection failure"),
    _rule("53400", ErrorCode.UNAVAILABLE, 500, "a configuration limit exceeded"),
    _rule("53", ErrorCode.UNAVAILABLE, 503, "insufficient resources (memory, disk, connections)"),
    # Server faults.
    _rule("21000", _T, 500, "a subquery returned more than one row"),
    _rule("P0001", _T, 400, "a RAISE without a documented code"),
    _rule("P0", _T, 500, "any other PL/pgSQL error"),
    _rule("09", _T, 500, "a triggered action failed"),
    _rule("2D", _T, 500, "an invalid transaction termination"),
    _rule("38", _T, 500, "an external routine failed"),
    _rule("39", _T, 500, "an external routine invocation failed"),
    _rule("3B", _T, 500, "a savepoint error"),
    _rule("55", _T, 500, "an object not in the required state"),
    _rule("58", _T, 500, "a system error"),
    _rule("F0", _T, 500, "a configuration file error"),
    _rule("HV", _T, 500, "a foreign data wrapper error"),
    _rule("XX", _T, 500, "an internal error"),
)

# Any other SQLSTATE: a server fault; PostgREST answers 400 for what it does not know.
DEFAULT_RULE = SqlstateRule("", _T, 400, "any other SQLSTATE")

# Errors PostgREST (and the gateway) report themselves, in the same "code" field.
REST_CODES: dict[str, ErrorCode] = {
    "PGRST000": ErrorCode.UNAVAILABLE,
    "PGRST001": ErrorCode.UNAVAILABLE,
    "PGRST002": ErrorCode.UNAVAILABLE,
    "PGRST003": ErrorCode.UNAVAILABLE,
    "PGRST100": ErrorCode.INVALID_INPUT,
    "PGRST102": ErrorCode.INVALID_INPUT,
    "PGRST106": ErrorCode.INVALID_INPUT,
    "PGRST107": ErrorCode.INVALID_INPUT,
    "PGRST116": ErrorCode.NOT_FOUND,
    "PGRST117": ErrorCode.METHOD_NOT_ALLOWED,
    "PGRST125": ErrorCode.NOT_FOUND,
    "PGRST202": ErrorCode.NOT_FOUND,
    "PGRST203": ErrorCode.INVALID_INPUT,
    "PGRST204": ErrorCode.INVALID_INPUT,
    "PGRST205": ErrorCode.NOT_FOUND,
    "PGRST301": ErrorCode.NOT_AUTHENTICATED,
    "PGRST302": ErrorCode.NOT_AUTHENTICATED,
    "PGRST303": ErrorCode.NOT_AUTHENTICATED,
}

_BY_PATTERN = {rule.pattern: rule for rule in SQLSTATE_RULES}


def spec_for(code: ErrorCode | str) -> ErrorSpec:
    """The spec of an error code (``ValueError`` for a name that is not a documented code)."""
    return ERROR_SPECS[ErrorCode(code)]


def rule_for(sqlstate: str) -> SqlstateRule:
    """The rule for a SQLSTATE: its own, else its class's, else :data:`DEFAULT_RULE`."""
    return _BY_PATTERN.get(sqlstate) or _BY_PATTERN.get(sqlstate[:2]) or DEFAULT_RULE


def code_for(sqlstate: str | None, hint: str | None = None) -> ErrorCode:
    """The documented code of an error: its HINT when that names a code, else its SQLSTATE's
    (or a PostgREST ``PGRST...`` code's) meaning."""
    if hint:
        try:
            return ErrorCode(hint)
        except ValueError:
            pass
    if sqlstate is None:
        return ErrorCode.INTERNAL
    if sqlstate in REST_CODES:
        return REST_CODES[sqlstate]
    return rule_for(sqlstate).code


def rest_status(sqlstate: str, *, authenticated: bool, message: str = "") -> int:
    """The HTTP status PostgREST answers a database error with (``PTxyz`` → ``xyz``)."""
    if sqlstate.startswith("PT"):
        digits = sqlstate[2:]
        return int(digits) if digits.isdigit() and 100 <= int(digits) <= 599 else 500
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate == "22023" and message.startswith("role") and message.endswith("does not exist"):
        return 401
    if sqlstate == "21000" and message.endswith("requires a WHERE clause"):
        return 400
    return rule_for(sqlstate).rest_status


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
