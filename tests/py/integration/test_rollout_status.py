"""``directorstudio rollout status`` on seeded sync metrics: go, hold on the failure rate, hold on
the latency, and not enough data."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from directorstudio import cli
from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio.ops.rollout import EXIT_CODES, Verdict
from tests.support.users import create_user

Conn = psycopg.Connection[Any]


def seed(conn: Conn, channel: str, events: list[dict[str, Any]]) -> None:
    """A new user in ``channel`` reports ``events`` through record_sync_metrics; then the
    day's rollup runs."""
    user = create_user(conn, f"{uuid.uuid4()}@example.com")
    with request_transaction(conn, "service_role"):
        conn.execute("SELECT public.set_canary_percent(%s)", (100 if channel == "canary" else 0,))
    with request_transaction(conn, "authenticated", claims_for_user(str(user))):
        conn.execute("SELECT public.record_sync_metrics(%s, %s)", (uuid.uuid4(), Jsonb(events)))
    with request_transaction(conn, "service_role"):
        conn.execute("SELECT public.set_canary_percent(5)")
        conn.execute("SELECT public.run_daily_rollups((now() AT TIME ZONE 'UTC')::date)")


def outcomes(confirmed: int, retried: int = 0, dead: int = 0) -> list[dict[str, Any]]:
    counts = {"confirmed": confirmed, "retried": retried, "dead": dead}
    return [{"metric": "sync_outcome", "bucket": b, "count": n} for b, n in counts.items() if n]


def latencies(**buckets: int) -> list[dict[str, Any]]:
    return [
        {"metric": "create_to_confirm_ms", "bucket": bucket.removeprefix("le_"), "count": n}
        for bucket, n in buckets.items()
    ]


def status(database_url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    code = cli.main(["rollout", "status", "--database-url", database_url, "--json", *extra])
    body = json.loads(capsys.readouterr().out)
    assert body["exit_code"] == code
    return code, body


def test_a_healthy_canary_is_a_go(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(995, 3, 2) + latencies(le_1000=80, le_5000=40))
    seed(admin_conn, "stable", outcomes(50, dead=50) + latencies(inf=100))
    code, body = status(database_url, capsys)
    assert (code, body["verdict"]) == (0, "go")
    canary, stable = body["channels"]
    assert (canary["channel"], canary["failure_rate"]) == ("canary", 0.005)
    assert canary["median_ms"] == pytest.approx(500 + 500 * 60 / 80)
    assert (stable["channel"], stable["dead"]) == ("stable", 50)
    assert [g["passed"] for g in body["gates"]] == [True, True]


def test_a_sync_failure_rate_of_one_percent_holds_the_release(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(990, retried=6, dead=4) + latencies(le_250=200))
    code, body = status(database_url, capsys)
    assert (code, body["verdict"]) == (EXIT_CODES[Verdict.HOLD], "hold")
    assert [g["passed"] for g in body["gates"]] == [False, True]
    assert body["reasons"] == ["sync failure rate 1.00 % is not < 1.00 %"]


def test_a_median_create_to_confirm_of_three_seconds_holds_the_release(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(1000) + latencies(le_2000=50, le_3000=10, le_5000=60))
    code, body = status(database_url, capsys)
    assert (code, body["verdict"]) == (EXIT_CODES[Verdict.HOLD], "hold")
    assert [g["passed"] for g in body["gates"]] == [True, False]
    assert body["reasons"] == ["median create-to-confirm 3.00 s is not < 3.00 s"]


def test_without_canary_data_there_is_no_verdict(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "stable", outcomes(1000) + latencies(le_250=1000))
    code, body = status(database_url, capsys)
    assert (code, body["verdict"]) == (EXIT_CODES[Verdict.NOT_ENOUGH_DATA], "not_enough_data")
    assert [g["passed"] for g in body["gates"]] == [None, None]
    assert code not in (EXIT_CODES[Verdict.GO], EXIT_CODES[Verdict.HOLD], 1, 2)


def test_too_few_canary_samples_give_no_verdict_until_the_threshold_is_lowered(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(40) + latencies(le_500=40))
    assert status(database_url, capsys)[1]["verdict"] == "not_enough_data"
    assert status(database_url, capsys, "--min-samples", "40")[1]["verdict"] == "go"


def test_days_outside_the_window_are_not_counted(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(500, dead=500) + latencies(inf=500))
    admin_conn.execute("UPDATE public.sync_metrics SET day = day - 7")
    admin_conn.execute("UPDATE private.release_channel_daily SET day = day - 7")
    seed(admin_conn, "canary", outcomes(500) + latencies(le_250=500))
    assert status(database_url, capsys, "--since", "7")[1]["verdict"] == "go"
    assert status(database_url, capsys, "--since", "8")[1]["verdict"] == "hold"


def test_the_table_names_each_channel_gate_and_the_verdict(
    admin_conn: Conn, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(admin_conn, "canary", outcomes(990, retried=6, dead=4) + latencies(le_250=200))
    code = cli.main(["rollout", "status", "--database-url", database_url])
    out = capsys.readouterr().out
    assert code == EXIT_CODES[Verdict.HOLD]
    for text in ("canary", "stable", "sync failure rate", "1.00 %", "fail", "verdict: hold"):
        assert text in out
