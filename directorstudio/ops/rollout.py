"""``directorstudio rollout status``: the canary's release health against the checklist's gates.

The checklist's full-release gates are a sync failure rate below 1 % and a median
create-to-confirm latency below 3 s. Both are read from ``public.release_health(days)`` (the
daily rollup of the clients' sync metrics, per release channel) and judged on the canary
channel; the stable channel is shown next to it for comparison.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row

MAX_FAILURE_RATE = 0.01
MAX_MEDIAN_MS = 3000.0
DEFAULT_MIN_SAMPLES = 100
CANARY = "canary"


class Verdict(StrEnum):
    """What the gates say about the canary."""

    GO = "go"
    HOLD = "hold"
    NOT_ENOUGH_DATA = "not_enough_data"


EXIT_CODES = {Verdict.GO: 0, Verdict.HOLD: 3, Verdict.NOT_ENOUGH_DATA: 4}


@dataclass(frozen=True)
class ChannelHealth:
    """One channel's sync outcomes and create-to-confirm latency over the window."""

    channel: str
    first_day: dt.date
    confirmed: int
    retried: int
    dead: int
    failure_rate: float | None
    latency_samples: int
    median_ms: float | None

    @property
    def outcomes(self) -> int:
        return self.confirmed + self.retried + self.dead


@dataclass(frozen=True)
class Gate:
    """One checklist gate as measured on the canary."""

    name: str
    limit: str
    measured: str
    passed: bool | None  # None: not enough data to judge


@dataclass
class RolloutStatus:
    """The verdict, the gates behind it and every channel's figures."""

    since_days: int
    min_samples: int
    channels: list[ChannelHealth]
    gates: list[Gate] = field(default_factory=list)
    verdict: Verdict = Verdict.NOT_ENOUGH_DATA
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        """The machine-readable form printed by ``--json``."""
        return {
            "verdict": str(self.verdict),
            "exit_code": self.exit_code,
            "since_days": self.since_days,
            "min_samples": self.min_samples,
            "reasons": self.reasons,
            "gates": [asdict(g) for g in self.gates],
            "channels": [asdict(c) | {"first_day": c.first_day.isoformat()} for c in self.channels],
        }


def read_health(conn: psycopg.Connection[Any], since_days: int) -> list[ChannelHealth]:
    """``public.release_health(since_days)``: one row per channel."""
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute("SELECT * FROM public.release_health(%s)", (since_days,)).fetchall()
    return [ChannelHealth(**row) for row in rows]


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.2f} %"


def _seconds(millis: float | None) -> str:
    return "-" if millis is None else f"{millis / 1000:.2f} s"


def judge(channels: list[ChannelHealth], since_days: int, min_samples: int) -> RolloutStatus:
    """Apply the gates to the canary channel."""
    status = RolloutStatus(since_days, min_samples, channels)
    canary = next((c for c in channels if c.channel == CANARY), None)
    outcomes = canary.outcomes if canary else 0
    samples = canary.latency_samples if canary else 0
    failure = canary.failure_rate if canary and outcomes >= min_samples else None
    median = canary.median_ms if canary and samples >= min_samples else None
    status.gates = [
        Gate(
            "sync failure rate",
            f"< {_percent(MAX_FAILURE_RATE)}",
            _percent(failure) if failure is not None else f"{outcomes} outcomes",
            None if failure is None else failure < MAX_FAILURE_RATE,
        ),
        Gate(
            "median create-to-confirm",
            f"< {_seconds(MAX_MEDIAN_MS)}",
            _seconds(median) if median is not None else f"{samples} samples",
            None if median is None else median < MAX_MEDIAN_MS,
        ),
    ]
    for gate in status.gates:
        if gate.passed is None:
            status.reasons.append(
                f"{gate.name}: too little canary data ({gate.measured}, need {min_samples})"
            )
        elif not gate.passed:
            status.reasons.append(f"{gate.name} {gate.measured} is not {gate.limit}")
    if any(g.passed is False for g in status.gates):
        status.verdict = Verdict.HOLD
    elif any(g.passed is None for g in status.gates):
        status.verdict = Verdict.NOT_ENOUGH_DATA
    else:
        status.verdict = Verdict.GO
    return status


def rollout_status(database_url: str, since_days: int, min_samples: int) -> RolloutStatus:
    """Read release health from the database and judge it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return judge(read_health(conn, since_days), since_days, min_samples)


def render(status: RolloutStatus) -> Any:
    """The channels and gates as rich tables, with the verdict."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    channels = Table(title=f"Release health, last {status.since_days} day(s)")
    for column in (
        "channel", "confirmed", "retried", "dead", "sync failure", "latency samples",
        "median create-to-confirm",
    ):  # fmt: skip
        channels.add_column(column, justify="left" if column == "channel" else "right")
    for c in status.channels:
        channels.add_row(
            c.channel, str(c.confirmed), str(c.retried), str(c.dead), _percent(c.failure_rate),
            str(c.latency_samples), _seconds(c.median_ms),
        )  # fmt: skip
    gates = Table(title="Gates (canary)")
    for column in ("gate", "limit", "measured", "result"):
        gates.add_column(column)
    for g in status.gates:
        result = {True: "[green]pass[/]", False: "[red]fail[/]", None: "[yellow]no data[/]"}
        gates.add_row(g.name, g.limit, g.measured, result[g.passed])
    colour = {Verdict.GO: "green", Verdict.HOLD: "red", Verdict.NOT_ENOUGH_DATA: "yellow"}
    verdict = Text.from_markup(
        f"verdict: [bold {colour[status.verdict]}]{status.verdict}[/]"
        + "".join(f"\n  {reason}" for reason in status.reasons)
    )
    return Group(channels, gates, verdict)
