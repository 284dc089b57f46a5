"""Signatures of webhook and render-request bodies.

Header ``X-DirectorStudio-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is the
HMAC-SHA256, keyed with the shared secret, of ``f"{t}.".encode() + raw_body``. A signature is
accepted within five minutes of ``t`` (either side) when any ``v1`` entry matches (several
entries let a secret be rotated).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

SIGNATURE_HEADER = "X-DirectorStudio-Signature"
TOLERANCE_SECONDS = 300

Clock = Callable[[], float]


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, clock: Clock = time.time) -> str:
    """The signature header value for ``body`` at the current time."""
    timestamp = int(clock())
    return f"t={timestamp},v1={compute(secret, timestamp, body)}"


def _rejected(message: str) -> DirectorStudioError:
    return DirectorStudioError(message, code=ErrorCode.NOT_AUTHENTICATED)


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    clock: Clock = time.time,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp when ``header`` signs ``body`` with ``secret``, else
    ``not_authenticated``."""
    if not header:
        raise _rejected("missing webhook signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise _rejected("malformed webhook signature") from None
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise _rejected("malformed webhook signature")
    if abs(clock() - timestamp) > tolerance:
        raise _rejected("webhook signature timestamp outside the tolerance")
    expected = compute(secret, timestamp, body)
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise _rejected("invalid webhook signature")
    return timestamp
