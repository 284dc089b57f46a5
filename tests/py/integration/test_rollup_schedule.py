"""Supabase Cron: the migrations schedule the rollups with pg_cron where it runs, and migrate
cleanly where it does not; the scheduled command runs the rollups as the job's user."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio import paths
from directorstudio.migrate import migrate
from tests.support.cluster import CRON_DATABASE, Server, cron_server
from tests.support.users import create_user

Conn = psycopg.Connection[Any]
SCHEDULE_MIGRATION = next(paths.MIGRATIONS_DIR.glob("*_rollup_schedule.sql"))
JOB = "directorstudio-rollups"


@pytest.fixture(scope="module")
def cron() -> Iterator[Server]:
    with cron_server() as server:
        migrate(server.url(CRON_DATABASE), bootstrap=True)
        yield server


@pytest.fixture
def cron_conn(cron: Server) -> Iterator[Conn]:
    with psycopg.connect(cron.url(CRON_DATABASE), autocommit=True) as conn:
        yield conn


def _jobs(conn: Conn) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT jobname, schedule, command, username, database, active FROM cron.job"
        " WHERE jobname = %s",
        (JOB,),
    ).fetchall()


def _launcher_databases(conn: Conn, deadline: float = 15.0) -> list[tuple[Any, ...]]:
    give_up = time.monotonic() + deadline
    while True:
        found = conn.execute(
            "SELECT datname FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
        ).fetchall()
        if found or time.monotonic() > give_up:
            return found
        time.sleep(0.1)


def test_migrating_where_pg_cron_runs_schedules_the_rollups_every_15_minutes(
    cron_conn: Conn,
) -> None:
    assert _jobs(cron_conn) == [
        (JOB, "*/15 * * * *", "SELECT public.run_due_rollups()", "postgres", CRON_DATABASE, True)
    ]
    # and pg_cron's scheduler is running for this database (its launcher restarts within a
    # second or so after the database was created under it)
    assert _launcher_databases(cron_conn) == [(CRON_DATABASE,)]


def test_running_the_schedule_migration_again_keeps_one_job(cron_conn: Conn) -> None:
    for _ in range(2):
        cron_conn.execute(SCHEDULE_MIGRATION.read_text())  # type: ignore[arg-type]
    assert len(_jobs(cron_conn)) == 1


def test_the_scheduled_command_runs_the_rollups_as_the_job_user(
    cron: Server, cron_conn: Conn
) -> None:
    user = create_user(cron_conn)
    cron_conn.execute(
        "INSERT INTO public.continuity_logs (user_id, scene_id, kind, confidence, issues, passed,"
        " timestamp)"
        " VALUES (%s, 1, 'validation', 0.8, '[]', true, now())",
        (user,),
    )
    [(_name, _schedule, command, username, database, _active)] = _jobs(cron_conn)
    # What pg_cron does when the job is due: connect as its user to its database and run it.
    with psycopg.connect(cron.url(database).replace("postgres@", f"{username}@", 1)) as job:
        job.execute(command)
    assert cron_conn.execute(
        "SELECT total_scenes, scenes_passed, (validation_date AT TIME ZONE 'UTC')::date"
        " FROM public.continuity_daily_analytics WHERE user_id = %s",
        (user,),
    ).fetchall() == [(1, 1, dt.datetime.now(dt.UTC).date())]


def test_migrating_without_pg_cron_succeeds_and_schedules_nothing(admin_conn: Conn) -> None:
    # The test server does not preload pg_cron: the migration is recorded and creates nothing.
    assert admin_conn.execute(
        "SELECT count(*) FROM supabase_migrations.schema_migrations WHERE version = %s",
        (SCHEDULE_MIGRATION.name.split("_", 1)[0],),
    ).fetchone() == (1,)
    assert admin_conn.execute(
        "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'"
    ).fetchone() == (0,)
    assert admin_conn.execute("SELECT to_regnamespace('cron') IS NULL").fetchone() == (True,)
