"""GoTrue's per-IP rate limits on the calls that open or refresh sessions.

The limits are those of ``supabase/config.toml``'s ``[auth.rate_limit]`` (``anonymous_users``
per hour, ``sign_in_sign_ups`` and ``token_refresh`` per 5 minutes, per IP address); a limit
that is not set is not enforced. Past a limit GoTrue answers 429 ``over_request_rate_limit``
"Request rate limit reached" and changes nothing. Time is the gateway's clock.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

from directorstudio.stack.gotrue_errors import AuthError

# Seconds over which each limit counts requests, as GoTrue counts them.
WINDOWS = {"anonymous_users": 3600.0, "sign_in_sign_ups": 300.0, "token_refresh": 300.0}


class RateLimiter:
    """Requests per (limit, client address) in a sliding window."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], collections.deque[float]] = {}

    def check(self, limits: Mapping[str, int], bucket: str, client: str, now: float) -> None:
        """Count one request of ``client`` against ``bucket``; 429 when it is over the limit
        (a refused request is not counted)."""
        limit = limits.get(bucket)
        if limit is None:
            return
        hits = self._hits.setdefault((bucket, client), collections.deque())
        while hits and hits[0] <= now - WINDOWS[bucket]:
            hits.popleft()
        if len(hits) >= limit:
            raise AuthError(429, "over_request_rate_limit", "Request rate limit reached")
        hits.append(now)
