"""The values a benchmark suite produces, and the arithmetic of repetitions and targets."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from directorstudio.errors import DirectorStudioError, ErrorCode

T = TypeVar("T")

REPETITIONS = 3


class ExactnessError(DirectorStudioError):
    """A benchmark's result was wrong (e.g. jobs created differ from credits consumed)."""

    code = ErrorCode.INTERNAL


@dataclass(frozen=True)
class BenchOptions:
    """How a run is sized: ``quick`` for CI, the full sizes otherwise."""

    quick: bool = False
    repetitions: int = REPETITIONS


@dataclass(frozen=True)
class Row:
    """One figure of the table.

    ``value`` is the median of the repetitions, ``p95`` the 95th percentile of the individual
    samples when the figure is a latency. ``baseline``/``baseline_value`` name and give the
    comparison measured in the same run; ``target`` says in words what must hold and ``met``
    whether it did (``None`` for a figure shown for information only).
    """

    suite: str
    metric: str
    unit: str
    value: float
    target: str
    met: bool | None
    p95: float | None = None
    baseline: str | None = None
    baseline_value: float | None = None
    samples: tuple[float, ...] = field(default=(), repr=False)

    @property
    def ratio(self) -> float | None:
        """``value / baseline_value`` when there is a baseline."""
        if self.baseline_value in (None, 0) or self.baseline_value is None:
            return None
        return self.value / self.baseline_value


class Suite(Protocol):
    """A group of related measurements; ``run`` returns its rows."""

    name: str

    def run(self, options: BenchOptions) -> list[Row]:
        """Measure and return the rows (raise :class:`ExactnessError` on a wrong result)."""
        ...


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    """The 95th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return float(ordered[rank])


def repeat(measure: Callable[[], T], times: int = REPETITIONS) -> list[T]:
    """Run ``measure`` ``times`` times and return every result, in order."""
    return [measure() for _ in range(times)]


def at_most(
    suite: str,
    metric: str,
    unit: str,
    values: Sequence[float],
    limit: float,
    *,
    p95_of: Sequence[float] | None = None,
    baseline: str | None = None,
    baseline_values: Sequence[float] | None = None,
    max_ratio: float | None = None,
) -> Row:
    """A figure that must stay at or below ``limit`` (and ``max_ratio`` x its baseline)."""
    value = median(values)
    base = median(baseline_values) if baseline_values else None
    met = value <= limit
    target = f"<= {limit:g} {unit}"
    if max_ratio is not None and base is not None:
        met = met and value <= max_ratio * base
        target += f" and <= {max_ratio:g}x"
    return Row(
        suite=suite,
        metric=metric,
        unit=unit,
        value=value,
        target=target,
        met=met,
        p95=p95(p95_of) if p95_of else None,
        baseline=baseline,
        baseline_value=base,
        samples=tuple(values),
    )


def at_least(
    suite: str,
    metric: str,
    unit: str,
    values: Sequence[float],
    limit: float | None,
    *,
    baseline: str | None = None,
    baseline_values: Sequence[float] | None = None,
    min_ratio: float | None = None,
) -> Row:
    """A figure (e.g. a rate) that must reach ``limit`` (and ``min_ratio`` x its baseline)."""
    value = median(values)
    base = median(baseline_values) if baseline_values else None
    met = True
    parts = []
    if limit is not None:
        met = value >= limit
        parts.append(f">= {limit:g} {unit}")
    if min_ratio is not None and base is not None:
        met = met and value >= min_ratio * base
        parts.append(f">= {min_ratio:g}x")
    return Row(
        suite=suite,
        metric=metric,
        unit=unit,
        value=value,
        target=" and ".join(parts) or "-",
        met=met,
        baseline=baseline,
        baseline_value=base,
        samples=tuple(values),
    )


def info(
    suite: str,
    metric: str,
    unit: str,
    values: Sequence[float],
    *,
    baseline: str | None = None,
    baseline_values: Sequence[float] | None = None,
) -> Row:
    """A figure shown for information (next to a baseline when given), with no target."""
    return Row(
        suite=suite,
        metric=metric,
        unit=unit,
        value=median(values),
        target="-",
        met=None,
        baseline=baseline,
        baseline_value=median(baseline_values) if baseline_values else None,
        samples=tuple(values),
    )
