"""The benchmark table's arithmetic, suite discovery and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from directorstudio.bench import BenchOptions, at_least, at_most, info, median, p95, runner


def test_a_latency_within_its_limit_and_ratio_is_met() -> None:
    row = at_most(
        "s",
        "read",
        "ms",
        [1.0, 2.0, 9.0],
        2.0,
        baseline="raw",
        baseline_values=[1.0],
        max_ratio=3.0,
    )
    assert (row.value, row.baseline_value, row.ratio, row.met) == (2.0, 1.0, 2.0, True)


def test_a_latency_over_its_ratio_to_the_baseline_is_missed_even_under_the_limit() -> None:
    row = at_most(
        "s", "read", "ms", [1.6], 2.0, baseline="raw", baseline_values=[0.5], max_ratio=3.0
    )
    assert row.met is False
    assert row.target == "<= 2 ms and <= 3x"


def test_a_rate_must_reach_both_its_floor_and_its_share_of_the_baseline() -> None:
    enough = at_least(
        "s", "drain", "/s", [6000], 5000, baseline="raw", baseline_values=[10000], min_ratio=0.5
    )
    short = at_least(
        "s", "drain", "/s", [6000], 5000, baseline="raw", baseline_values=[20000], min_ratio=0.5
    )
    assert (enough.met, short.met) == (True, False)


def test_an_information_row_shows_its_ratio_to_a_baseline_and_has_no_target() -> None:
    row = info("s", "floor", "/s", [3000, 4000, 5000], baseline="raw", baseline_values=[8000])
    assert (row.value, row.baseline_value, row.ratio) == (4000, 8000, 0.5)
    assert (row.target, row.met) == ("-", None)


def test_percentiles_use_the_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert (median(samples), p95(samples)) == (50.5, 95.0)


def test_a_full_run_fails_on_a_missed_target_and_a_quick_run_does_not() -> None:
    rows = [at_most("s", "read", "ms", [5.0], 2.0), info("s", "memory", "MiB", [30.0])]
    assert runner.verdict(rows, BenchOptions(quick=False)) == 1
    assert runner.verdict(rows, BenchOptions(quick=True)) == 0


def test_every_suite_module_is_discovered_and_unknown_names_are_refused() -> None:
    names = [suite.name for suite in runner.discover()]
    assert {"database", "dispatch"} <= set(names)
    with pytest.raises(KeyError, match="no-such-suite"):
        runner.select(runner.discover(), ["no-such-suite"])


def test_the_json_report_carries_each_row_with_its_ratio(tmp_path: Path) -> None:
    rows = [at_most("s", "read", "ms", [1.0], 2.0, baseline="raw", baseline_values=[0.5])]
    runner.write_json(rows, tmp_path / "bench.json")
    [saved] = json.loads((tmp_path / "bench.json").read_text())
    assert (saved["metric"], saved["ratio"], saved["met"]) == ("read", 2.0, True)
