"""Driver errors become :class:`DirectorStudioError` here, and only here."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from directorstudio.contracts.errors import DirectorStudioError, code_for


def _parse_detail(detail: str | None) -> Any:
    if not detail:
        return None
    try:
        return json.loads(detail)
    except ValueError:
        return detail


def translate(error: psycopg.Error) -> DirectorStudioError:
    """The typed error for a database error, keyed by its HINT code or SQLSTATE."""
    diag = error.diag
    code = code_for(error.sqlstate, diag.message_hint)
    message = diag.message_primary or str(error).strip()
    translated = DirectorStudioError(message, code=code, detail=_parse_detail(diag.message_detail))
    translated.__cause__ = error
    return translated
