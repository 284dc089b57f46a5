"""Discovers the suites, runs them and renders the table and the JSON report."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

import directorstudio.bench as bench_package
from directorstudio.bench.model import BenchOptions, Row, Suite

SUITE_PREFIX = "suite_"


def discover() -> list[Suite]:
    """Every ``directorstudio.bench.suite_*`` module's ``SUITE``, in module name order."""
    suites: list[Suite] = []
    for info in sorted(pkgutil.iter_modules(bench_package.__path__), key=lambda m: m.name):
        if info.name.startswith(SUITE_PREFIX):
            module = importlib.import_module(f"{bench_package.__name__}.{info.name}")
            suites.append(module.SUITE)
    return suites


def select(suites: Sequence[Suite], names: Iterable[str]) -> list[Suite]:
    """The suites named (all of them when ``names`` is empty); unknown names are an error."""
    wanted = list(names)
    if not wanted:
        return list(suites)
    by_name = {suite.name: suite for suite in suites}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise KeyError(f"unknown suite(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
    return [by_name[name] for name in wanted]


def _figure(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def render(rows: Sequence[Row], console: Console) -> None:
    """Print the rows as one table."""
    table = Table(title="directorstudio bench")
    for column in ("suite", "metric", "median", "p95", "baseline", "ratio", "target", "met"):
        table.add_column(column)
    for row in rows:
        met = "-" if row.met is None else ("[green]yes[/]" if row.met else "[red]NO[/]")
        table.add_row(
            row.suite,
            row.metric,
            _figure(row.value, row.unit),
            _figure(row.p95, row.unit),
            f"{row.baseline} {_figure(row.baseline_value, row.unit)}" if row.baseline else "-",
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.target,
            met,
        )
    console.print(table)


def write_json(rows: Sequence[Row], path: Path) -> None:
    """Write the rows (with their ratio) to ``path`` as JSON."""
    payload = [asdict(row) | {"ratio": row.ratio} for row in rows]
    path.write_text(json.dumps(payload, indent=2) + "\n")


def run(suites: Sequence[Suite], options: BenchOptions) -> list[Row]:
    """Run each suite in turn and collect its rows."""
    rows: list[Row] = []
    for suite in suites:
        rows.extend(suite.run(options))
    return rows


def verdict(rows: Sequence[Row], options: BenchOptions) -> int:
    """Exit code: a full run fails when a target is missed; a quick run only on errors."""
    if options.quick:
        return 0
    return 1 if any(row.met is False for row in rows) else 0
