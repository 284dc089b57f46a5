"""Cloud Function clip_webhook (entry point ``clip_webhook``). See docs/functions.md."""

import flask

from directorstudio.server.endpoints import clips


def clip_webhook(request: flask.Request) -> flask.Response:
    """POST a signed render-provider event."""
    return clips.clip_webhook(request)
