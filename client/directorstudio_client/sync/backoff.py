"""Exponential backoff with full jitter, driven by an injected random generator.

The same computation as tenacity's ``wait_random_exponential`` (upper bound
``multiplier * 2 ** (attempt - 1)`` capped at ``max``, delay uniform in ``[0, bound]``), but with
the random source injected so a seeded generator gives a reproducible schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential


class _Jittered(wait_exponential):
    def __init__(self, rng: random.Random, multiplier: float, maximum: float) -> None:
        super().__init__(multiplier=multiplier, max=maximum)
        self._rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        high = super().__call__(retry_state=retry_state)
        return self._rng.uniform(self.min, high)


@dataclass(frozen=True)
class BackoffPolicy:
    """Initial delay bound, its cap, and the window after which an entry is requeued."""

    initial: float = 1.0
    maximum: float = 30.0
    retry_window: float = 60.0

    def upper_bound(self, attempt: int) -> float:
        """The largest delay after the given failed attempt (1-based)."""
        return float(min(self.maximum, self.initial * 2 ** (max(attempt, 1) - 1)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A jittered delay after the given failed attempt (1-based)."""
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = max(attempt, 1)
        return _Jittered(rng, self.initial, self.maximum)(state)
