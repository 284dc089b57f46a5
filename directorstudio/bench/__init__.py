"""``directorstudio bench``: speed targets measured next to baselines taken in the same run.

Each suite is a module ``directorstudio.bench.suite_<name>`` exposing ``SUITE`` (a
:class:`Suite`); the runner discovers them, so adding a suite touches no registry. A suite returns
:class:`Row` values: one measured figure, optionally next to a baseline measured in the same run,
with the target it must meet. Figures are medians of repetitions (see :func:`repeat`).

``--quick`` runs small sizes and fails only when a measurement cannot run or an exactness check
fails (a suite raises :class:`ExactnessError`); a full run also fails when a target is missed.
"""

from directorstudio.bench.model import (
    BenchOptions,
    ExactnessError,
    Row,
    Suite,
    at_least,
    at_most,
    info,
    median,
    p95,
    repeat,
)

__all__ = [
    "BenchOptions",
    "ExactnessError",
    "Row",
    "Suite",
    "at_least",
    "at_most",
    "info",
    "median",
    "p95",
    "repeat",
]
