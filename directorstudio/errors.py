"""The root exception, shared with the client library through :mod:`directorstudio.contracts`."""

from __future__ import annotations

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

__all__ = ["DirectorStudioError", "ErrorCode"]
