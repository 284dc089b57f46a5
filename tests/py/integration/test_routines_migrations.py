"""Routines migrations are deltas: only what changed in sql/, verified against the sources."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

from directorstudio import cli, paths, sqlsource
from directorstudio.migrate import migrate, migration_files
from directorstudio.routines.scratch import ScratchServer
from tests.support.cluster import Server

# Deployed: it must never change again (a changed deployed migration never reaches production).
FROZEN = {
    "20261125000100_routines.sql": (
        "b97b6badee5f2fe1069ef27c50da30a89f0cf4788aa055d3763920e648a57e33"
    ),
}
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def scratch(pg_server: Server) -> ScratchServer:
    return ScratchServer(pg_server.url("postgres"))


@pytest.fixture
def layout(tmp_path: Path) -> sqlsource.Layout:
    """A copy of the sources and the migrations to change freely."""
    shutil.copytree(paths.FUNCTIONS_SQL_DIR, tmp_path / "sql" / "functions")
    shutil.copytree(paths.POLICIES_SQL_DIR, tmp_path / "sql" / "policies")
    shutil.copytree(paths.MIGRATIONS_DIR, tmp_path / "migrations")
    return sqlsource.Layout(
        tmp_path / "sql" / "functions", tmp_path / "sql" / "policies", tmp_path / "migrations"
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _write(scratch: ScratchServer, layout: sqlsource.Layout, now: dt.datetime) -> str:
    before = _contents(layout.migrations_dir)
    plan = sqlsource.plan_routines(scratch, layout)
    assert plan.statements, "expected a change"
    path = sqlsource.next_migration_path(layout.migrations_dir, now)
    path.write_text(plan.render())
    after = _contents(layout.migrations_dir)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {path.name}
    return plan.render()


def test_deployed_migrations_are_byte_identical_to_what_was_deployed() -> None:
    for name, digest in FROZEN.items():
        assert hashlib.sha256((paths.MIGRATIONS_DIR / name).read_bytes()).hexdigest() == digest


def test_routines_check_passes_on_the_repository(scratch: ScratchServer) -> None:
    assert sqlsource.check_routines(scratch) == []


def test_two_source_changes_give_two_small_migrations_that_rebuild_the_sources(
    scratch: ScratchServer, layout: sqlsource.Layout
) -> None:
    functions, policies = layout.functions_dir, layout.policies_dir
    _edit(functions / "11_touch_updated_at.sql", "now();", "clock_timestamp();")
    _edit(policies / "clip_jobs.sql", "GRANT SELECT ON", "GRANT SELECT, UPDATE ON")
    first = _write(scratch, layout, NOW)
    assert first.count("CREATE OR REPLACE FUNCTION") == 1
    assert "FUNCTION private.touch_updated_at()" in first
    assert "GRANT UPDATE ON TABLE public.clip_jobs TO authenticated;" in first
    assert "POLICY" not in first
    assert "TRIGGER" not in first

    _edit(
        policies / "project_overview.sql",
        "USING (user_id = (SELECT auth.uid()))\nWITH",
        ("USING (user_id = (SELECT auth.uid()) AND NOT archived)\nWITH"),
    )
    _edit(
        functions / "11_touch_updated_at.sql",
        "CREATE OR REPLACE TRIGGER t90_touch_updated_at\nBEFORE UPDATE ON public.credits_ledger",
        "CREATE OR REPLACE TRIGGER t90_touch_updated_at\nBEFORE UPDATE ON public.app_users"
        "\nFOR EACH ROW EXECUTE FUNCTION private.touch_updated_at();\n\n"
        "CREATE OR REPLACE TRIGGER t90_touch_updated_at\nBEFORE UPDATE ON public.credits_ledger",
    )
    second = _write(scratch, layout, NOW + dt.timedelta(minutes=5))
    assert "FUNCTION" not in second.replace("EXECUTE FUNCTION", "")
    assert second.count("POLICY") == 1
    assert "ALTER POLICY project_overview_update_own ON public.project_overview" in second
    assert second.count("CREATE OR REPLACE TRIGGER") == 1
    assert "TRIGGER t90_touch_updated_at BEFORE UPDATE ON public.app_users" in second

    # Every migration replayed in order builds the same catalog as the sources.
    assert sqlsource.check_routines(scratch, layout) == []
    # And every one of them, the deltas included, is safe to run twice.
    with scratch.database("ds_test_twice") as url:
        migrate(url, bootstrap=True, files=[])
        files = migration_files(layout.migrations_dir)
        for _ in range(2):
            sqlsource.apply_sources(url, files)


def test_a_removed_function_gets_a_drop(scratch: ScratchServer, layout: sqlsource.Layout) -> None:
    (layout.functions_dir / "60_sample_project.sql").unlink()
    statements = sqlsource.plan_routines(scratch, layout).statements
    assert statements == ["DROP FUNCTION IF EXISTS public.import_sample_project(uuid);"]


def test_an_unchanged_policy_is_not_recreated_and_a_changed_command_is(
    scratch: ScratchServer, layout: sqlsource.Layout
) -> None:
    _edit(
        layout.policies_dir / "video_uploads.sql",
        "FOR UPDATE TO authenticated",
        "FOR ALL TO authenticated",
    )
    statements = sqlsource.plan_routines(scratch, layout).statements
    assert [s.split("\n")[0] for s in statements] == [
        "DROP POLICY IF EXISTS video_uploads_update_own ON public.video_uploads;",
        "CREATE POLICY video_uploads_update_own ON public.video_uploads",
    ]


def test_a_branch_with_a_table_migration_moved_functions_and_new_grants_gets_one_delta(
    scratch: ScratchServer, layout: sqlsource.Layout
) -> None:
    (layout.migrations_dir / "20261201100000_widgets.sql").write_text(
        "CREATE TABLE IF NOT EXISTS public.widgets (\n"
        "    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
        "    user_id uuid NOT NULL REFERENCES public.app_users (id),\n"
        "    updated_at timestamptz NOT NULL DEFAULT now()\n);\n"
        "CREATE INDEX IF NOT EXISTS ix_widgets_user ON public.widgets (user_id);\n"
        "ALTER TABLE public.widgets ENABLE ROW LEVEL SECURITY;\n"
    )
    (layout.policies_dir / "widgets.sql").write_text(
        "GRANT SELECT ON public.widgets TO authenticated;\n"
        "DROP POLICY IF EXISTS widgets_select_own ON public.widgets;\n"
        "CREATE POLICY widgets_select_own ON public.widgets FOR SELECT TO authenticated\n"
        "USING (user_id = (SELECT auth.uid()));\n"
        "COMMENT ON POLICY widgets_select_own ON public.widgets IS 'owner''s rows';\n"
    )
    with (layout.policies_dir / "00_defaults.sql").open("a") as defaults:
        defaults.write(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA private GRANT SELECT ON TABLES TO service_role;\n"
        )
    new_user = layout.functions_dir / "12_new_user.sql"
    new_user.write_text(
        "CREATE SCHEMA IF NOT EXISTS internal;\n"
        + new_user.read_text().replace("private.handle_new_user", "internal.handle_new_user")
    )
    _edit(
        layout.functions_dir / "11_touch_updated_at.sql",
        "REVOKE ALL ON FUNCTION private.touch_updated_at() FROM public;",
        "REVOKE ALL ON FUNCTION private.touch_updated_at() FROM public;\n\n"
        "CREATE OR REPLACE TRIGGER t90_touch_updated_at\nBEFORE UPDATE ON public.widgets\n"
        "FOR EACH ROW EXECUTE FUNCTION private.touch_updated_at();",
    )
    _edit(
        layout.functions_dir / "15_credit_transactions_append_only.sql",
        "CREATE OR REPLACE TRIGGER t10_forbid_credit_transaction_change",
        "DROP TRIGGER IF EXISTS t10_forbid_credit_transaction_change ON public.credit_transactions;"
        "\nCREATE OR REPLACE TRIGGER t11_forbid_credit_transaction_change",
    )
    _edit(
        layout.functions_dir / "60_sample_project.sql",
        "FROM public, anon;\nGRANT EXECUTE ON FUNCTION public.import_sample_project(uuid)"
        " TO authenticated, service_role;",
        "FROM public, anon, authenticated;\nGRANT EXECUTE ON FUNCTION"
        " public.import_sample_project(uuid) TO service_role;",
    )
    text = _write(scratch, layout, NOW)
    for expected in (
        "DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;",
        "DROP TRIGGER IF EXISTS t10_forbid_credit_transaction_change"
        " ON public.credit_transactions;",
        "DROP FUNCTION IF EXISTS private.handle_new_user();",
        "CREATE SCHEMA IF NOT EXISTS internal;",
        "CREATE OR REPLACE FUNCTION internal.handle_new_user()",
        "EXECUTE FUNCTION internal.handle_new_user();",
        "CREATE OR REPLACE TRIGGER t11_forbid_credit_transaction_change",
        "CREATE OR REPLACE TRIGGER t90_touch_updated_at BEFORE UPDATE ON public.widgets",
        "DROP POLICY IF EXISTS widgets_select_own ON public.widgets;\n"
        "CREATE POLICY widgets_select_own",
        "REVOKE EXECUTE ON FUNCTION public.import_sample_project(uuid) FROM authenticated;",
        "GRANT SELECT ON TABLE public.widgets TO authenticated;",
        "COMMENT ON POLICY widgets_select_own ON public.widgets IS 'owner''s rows';",
        " IN SCHEMA private GRANT SELECT ON TABLES TO service_role;",  # for the migrating role
    ):
        assert expected in text
    assert text.index("DROP TRIGGER IF EXISTS on_auth_user_created") < text.index(
        "DROP FUNCTION IF EXISTS private.handle_new_user()"
    )
    assert text.index("CREATE OR REPLACE FUNCTION internal.handle_new_user()") < text.index(
        "EXECUTE FUNCTION internal.handle_new_user();"
    )
    assert sqlsource.check_routines(scratch, layout) == []


def test_sources_that_change_a_table_are_refused(
    scratch: ScratchServer, layout: sqlsource.Layout
) -> None:
    (layout.functions_dir / "99_table_change.sql").write_text(
        "ALTER TABLE public.widgets_missing ADD COLUMN IF NOT EXISTS x int;\n".replace(
            "widgets_missing", "app_users"
        )
    )
    with pytest.raises(sqlsource.RoutinesError, match="table migration"):
        sqlsource.plan_routines(scratch, layout)


def test_routines_write_adds_nothing_when_nothing_changed_and_check_names_differences(
    pg_server: Server, layout: sqlsource.Layout, capsys: pytest.CaptureFixture[str]
) -> None:
    options = [
        "--scratch-url",
        pg_server.url("postgres"),
        "--sql-dir",
        str(layout.functions_dir.parent),
        "--migrations-dir",
        str(layout.migrations_dir),
    ]
    before = _contents(layout.migrations_dir)
    assert cli.main(["routines", "write", *options]) == 0
    assert _contents(layout.migrations_dir) == before

    (layout.functions_dir / "60_sample_project.sql").unlink()
    _edit(layout.policies_dir / "clip_jobs.sql", "GRANT SELECT ON", "GRANT SELECT, UPDATE ON")
    capsys.readouterr()
    assert cli.main(["routines", "check", *options]) == 1
    output = capsys.readouterr().err
    assert "function public.import_sample_project(uuid): only in the migrations" in output
    assert "relation public.clip_jobs: grants differs" in output


def test_a_function_create_or_replace_cannot_change_is_dropped_and_granted_again(
    scratch: ScratchServer, layout: sqlsource.Layout
) -> None:
    rollups = layout.functions_dir / "42_rollups.sql"
    rollups.write_text(rollups.read_text().replace("p_rate", "p_ratio"))
    statements = sqlsource.plan_routines(scratch, layout).statements
    signature = "private.performance_category(double precision)"
    assert [s.split("\n")[0] for s in statements] == [
        f"DROP FUNCTION IF EXISTS {signature};",
        "CREATE OR REPLACE FUNCTION private.performance_category(p_ratio double precision)",
        f"GRANT EXECUTE ON FUNCTION {signature} TO service_role;",
    ]
