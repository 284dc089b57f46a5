"""Signed JSON POSTs over HTTP (render requests and webhook deliveries)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from directorstudio.server import webhook_signing
from directorstudio.server.render.base import RenderRejectedError, RenderUnavailableError


@dataclass(frozen=True)
class HttpReply:
    """Status and body of an HTTP answer."""

    status: int
    body: bytes


Post = Callable[[str, bytes, Mapping[str, str]], HttpReply]


def urllib_post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float = 15
) -> HttpReply:
    """POST ``body`` to ``url``; any HTTP status is an answer, a network failure raises
    :class:`RenderUnavailableError`."""
    if not url.startswith(("http://", "https://")):
        raise RenderRejectedError(f"not an HTTP URL: {url}")
    request = urllib.request.Request(  # noqa: S310 (only http and https reach here)
        url, data=body, headers=dict(headers), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return HttpReply(response.status, response.read())
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, error.read())
    except (OSError, urllib.error.URLError) as error:
        raise RenderUnavailableError(f"cannot reach {url}: {error}") from None


def post_signed_json(
    post: Post,
    url: str,
    payload: Mapping[str, Any],
    secrets: str,
    *,
    message_id: str,
    clock: Callable[[], float] = time.time,
) -> HttpReply:
    """POST ``payload`` as JSON, signed as Standard Webhooks message ``message_id``."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        **webhook_signing.sign(secrets, message_id, body, clock=clock),
    }
    return post(url, body, headers)
