"""Database errors as PostgREST answers them, and as the documented codes.

Both translations read the one error table, :mod:`directorstudio.contracts.errors`:
:func:`error_body` and :func:`error_status` give PostgREST's JSON body and HTTP status of a
database error, :func:`translate` the :class:`DirectorStudioError` it means (its HINT when that
names a documented code, else its SQLSTATE's meaning). :class:`PostgrestError` is an error
PostgREST reports itself (a ``PGRST...`` code).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import psycopg

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode, code_for, rest_status


class PostgrestError(Exception):
    """An error PostgREST reports itself, before or instead of running SQL."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = dict(headers or {})

    @property
    def body(self) -> dict[str, Any]:
        """PostgREST's error JSON."""
        return body(self.code, self.message, details=self.details, hint=self.hint)

    def as_error(self) -> DirectorStudioError:
        """The documented error this answer means."""
        return DirectorStudioError(self.message, code=code_for(self.code, self.hint))


def body(
    code: str, message: str, *, details: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    """An error body in PostgREST's shape: ``{code, details, hint, message}``."""
    return {"code": code, "details": details, "hint": hint, "message": message}


def _message(error: psycopg.Error) -> str:
    return error.diag.message_primary or str(error).strip()


def error_body(error: psycopg.Error) -> dict[str, Any]:
    """PostgREST's JSON for a database error: SQLSTATE in ``code``, PostgreSQL's detail and
    hint as they are."""
    diag = error.diag
    return body(
        error.sqlstate or "XX000",
        _message(error),
        details=diag.message_detail,
        hint=diag.message_hint,
    )


def error_status(error: psycopg.Error, role: str) -> int:
    """PostgREST's HTTP status for a database error raised while acting as ``role``."""
    return sqlstate_status(error.sqlstate or "XX000", role, _message(error))


def sqlstate_status(sqlstate: str, role: str, message: str = "") -> int:
    """PostgREST's HTTP status for a SQLSTATE (42501 is 401 for ``anon``)."""
    return rest_status(sqlstate, authenticated=role != "anon", message=message)


def _detail(text: str | None) -> Any:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return json.loads(text)
    return text


def translate(error: psycopg.Error) -> DirectorStudioError:
    """The documented error for a database error (``unavailable`` when the connection failed
    before PostgreSQL could answer)."""
    if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
        translated = DirectorStudioError(str(error).strip(), code=ErrorCode.UNAVAILABLE)
    else:
        translated = DirectorStudioError(
            _message(error),
            code=code_for(error.sqlstate, error.diag.message_hint),
            detail=_detail(error.diag.message_detail),
        )
    translated.__cause__ = error
    return translated
