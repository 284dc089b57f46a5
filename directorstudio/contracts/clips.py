"""Clip job request and response models shared by the HTTP functions and the client library."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ClipStatus = Literal["queued", "processing", "completed", "failed", "canceled"]
ClipEventStatus = Literal["processing", "completed", "failed"]
ClipEventOutcome = Literal["applied", "duplicate", "stale"]

MAX_PROMPT_CHARS = 2000
MAX_CLIP_BODY_BYTES = 64 * 1024


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnqueueClipRequest(_Request):
    """``POST enqueue_clip``: a client-generated job id makes the call idempotent."""

    job_id: uuid.UUID
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    user_key: str = Field(min_length=1, max_length=200)
    project_id: uuid.UUID | None = None
    scene_draft_id: uuid.UUID | None = None


class ClipEvent(_Request):
    """``POST clip_webhook``: one state change reported by the render provider.

    Its id is the Standard Webhooks ``webhook-id`` header, not a body field.
    """

    job_id: uuid.UUID
    status: ClipEventStatus
    progress: int | None = Field(default=None, ge=0, le=100)
    download_url: str | None = Field(default=None, min_length=1, max_length=2048)
    error: str | None = Field(default=None, max_length=2000)
    provider_job_id: str | None = Field(default=None, max_length=200)


class RetryDispatchRequest(_Request):
    """``POST retry_dispatch``: no fields (an empty body or ``{}``)."""


class ClipJob(BaseModel):
    """A clip job row as the functions return it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    user_id: uuid.UUID
    user_key: str
    project_id: uuid.UUID | None = None
    scene_draft_id: uuid.UUID | None = None
    prompt: str
    status: ClipStatus
    progress: int = 0
    charge: Literal["free", "credit"]
    attempts: int = 0
    provider_job_id: str | None = None
    submitted_at: dt.datetime
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    canceled_at: dt.datetime | None = None
    refunded_at: dt.datetime | None = None
    download_url: str | None = None
    error_message: str | None = None
    version: int = 1


class ClipEventResult(BaseModel):
    """What ``clip_webhook`` answers: whether the event changed the job, and the job."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    outcome: ClipEventOutcome
    job: ClipJob


class RenderRequest(BaseModel):
    """What the HTTP render provider receives (signed like a webhook)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    job_id: uuid.UUID
    prompt: str
    callback_url: str
    duration_seconds: float = Field(gt=0, le=60)


class DispatchSummary(BaseModel):
    """What the dispatch retry entry point answers."""

    model_config = ConfigDict(frozen=True)

    attempted: int
    dispatched: int
    failed: int
