"""A render service reached over HTTP, with requests signed as Standard Webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from directorstudio.contracts.clips import RenderRequest
from directorstudio.server.render.base import (
    RenderJob,
    RenderRejectedError,
    RenderUnavailableError,
)
from directorstudio.server.render.transport import Post, post_signed_json, urllib_post


class HttpRenderProvider:
    """POSTs ``{job_id, prompt, callback_url, duration_seconds}`` to ``url``.

    Each request is signed with the webhook secrets (directorstudio.server.webhook_signing) as
    message ``webhook-id: <job_id>``, the same on every retry. The answer must be 2xx with
    ``{"provider_job_id": "..."}``; 5xx and network failures are transient, other statuses
    permanent. The service must treat ``job_id`` as an idempotency key.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        post: Post = urllib_post,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._post = post
        self._clock = clock

    def submit(self, job: RenderJob) -> str:
        """Send ``job``; the render service's id for it."""
        request = RenderRequest(
            job_id=job.job_id,
            prompt=job.prompt,
            callback_url=job.callback_url,
            duration_seconds=job.duration_seconds,
        )
        reply = post_signed_json(
            self._post,
            self._url,
            request.model_dump(mode="json"),
            self._secret,
            message_id=str(job.job_id),
            clock=self._clock,
        )
        if reply.status >= 500 or reply.status == 429:
            raise RenderUnavailableError(f"render service answered {reply.status}")
        if not 200 <= reply.status < 300:
            raise RenderRejectedError(f"render service refused the job ({reply.status})")
        try:
            answer = json.loads(reply.body)
            provider_job_id = answer["provider_job_id"]
        except (ValueError, KeyError, TypeError):
            raise RenderUnavailableError("render service answered without a job id") from None
        if not isinstance(provider_job_id, str) or not provider_job_id:
            raise RenderUnavailableError("render service answered without a job id")
        return provider_job_id
