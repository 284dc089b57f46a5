"""Render providers: where a queued clip job is sent to be rendered."""

from directorstudio.server.render.base import (
    RenderJob,
    RenderProvider,
    RenderRejectedError,
    RenderUnavailableError,
)

__all__ = ["RenderJob", "RenderProvider", "RenderRejectedError", "RenderUnavailableError"]
