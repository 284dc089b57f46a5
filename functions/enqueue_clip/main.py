"""Cloud Function enqueue_clip (entry point ``enqueue_clip``; also ``dispatch_clip`` and
``retry_dispatch``).

See docs/functions.md. The code is shared with the other functions in directorstudio.server.
"""

import flask

from directorstudio.server.endpoints import clips


def enqueue_clip(request: flask.Request) -> flask.Response:
    """POST a clip job as the signed-in user (Bearer access token)."""
    return clips.enqueue_clip(request)


def dispatch_clip(request: flask.Request) -> flask.Response:
    """POST per new job (Database Webhook or the local stack, scheduler secret or service key):
    dispatch it now."""
    return clips.dispatch_clip(request)


def retry_dispatch(request: flask.Request) -> flask.Response:
    """POST on a schedule (scheduler secret or service key): dispatch waiting jobs again."""
    return clips.retry_dispatch(request)
