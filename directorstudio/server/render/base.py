"""The render provider interface and its errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode


@dataclass(frozen=True)
class RenderJob:
    """What a provider needs: the job, its prompt and where to report progress."""

    job_id: uuid.UUID
    prompt: str
    callback_url: str
    duration_seconds: float = 3.0


class RenderUnavailableError(DirectorStudioError):
    """A transient failure (network, 5xx): the same submission may succeed later."""

    code = ErrorCode.UNAVAILABLE


class RenderRejectedError(DirectorStudioError):
    """The provider refused the job for good (4xx)."""

    code = ErrorCode.INVALID_INPUT


class RenderProvider(Protocol):
    """Accepts render jobs; reports their progress to the job's callback URL later.

    ``submit`` must be idempotent on ``job.job_id``: submitting the same job again returns the
    same provider job id and renders nothing more.
    """

    def submit(self, job: RenderJob) -> str:
        """Queue ``job``; the provider's id for it."""
        ...
