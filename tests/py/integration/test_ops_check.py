"""`directorstudio check` passes a freshly migrated database and names every injected fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio import cli
from directorstudio.migrate import migrate
from directorstudio.ops.check import run_check
from tests.support.cluster import Server

FAULTS = [
    "DROP INDEX public.ix_credit_transactions_clip_job",
    "ALTER TABLE public.clip_jobs DISABLE ROW LEVEL SECURITY",
    "ALTER FUNCTION private.touch_updated_at() RESET search_path",
    "DELETE FROM supabase_migrations.schema_migrations WHERE version = '20261125000040'",
    "UPDATE supabase_migrations.schema_migrations SET statements = ARRAY['SELECT 1']"
    " WHERE version = '20261125000010'",
    "INSERT INTO supabase_migrations.schema_migrations (version, statements, name)"
    " VALUES ('20991231000000', ARRAY['SELECT 1'], 'elsewhere')",
    "ALTER TABLE private.sync_mutations DROP CONSTRAINT sync_mutations_user_id_fkey",
    "INSERT INTO private.sync_mutations (user_id, client_id, mutation_id, outcome)"
    " VALUES (gen_random_uuid(), gen_random_uuid(), 1, '{}')",
    "ALTER TABLE private.sync_mutations ADD CONSTRAINT sync_mutations_user_id_fkey"
    " FOREIGN KEY (user_id) REFERENCES public.app_users (id) NOT VALID",
    "GRANT SELECT ON public.video_uploads TO anon",
    "CREATE POLICY video_uploads_select_bare ON public.video_uploads FOR SELECT"
    " TO authenticated USING (user_id = auth.uid())",
    "CREATE TABLE public.fault_notes (id int PRIMARY KEY)",
    "CREATE TABLE private.fault_private (id int PRIMARY KEY)",
    "ALTER TABLE private.fault_private ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE private.fault_private DISABLE ROW LEVEL SECURITY",
    "CREATE TABLE public.fault_granted (id int PRIMARY KEY)",
    "ALTER TABLE public.fault_granted ENABLE ROW LEVEL SECURITY",
    "GRANT SELECT ON public.fault_granted TO authenticated",
]
EXPECTED = {
    ("public.credit_transactions.credit_transactions_clip_job_id_fkey", "unindexed_foreign_keys"),
    ("public.clip_jobs", "rls_disabled_in_public"),
    ("public.clip_jobs", "policy_exists_rls_disabled"),
    ("private.touch_updated_at", "function_search_path_mutable"),
    ("20261125000040_project_provenance.sql", "history_missing"),
    ("20261125000010_clip_events.sql", "history_checksum"),
    ("20991231000000", "history_unknown"),
    ("private.sync_mutations.sync_mutations_user_id_fkey", "constraint_not_valid"),
    ("private.sync_mutations.sync_mutations_user_id_fkey", "fk_orphans"),
    ("public.video_uploads", "anon_grants"),
    ("public.video_uploads.video_uploads_select_bare", "auth_rls_initplan"),
    ("public.video_uploads", "multiple_permissive_policies"),
    ("public.fault_notes", "rls_disabled_in_public"),
    ("private.fault_private", "rls_disabled"),
    ("public.fault_granted", "rls_enabled_no_policy"),
}


@pytest.fixture
def migrated(pg_server: Server) -> Iterator[str]:
    """A database holding exactly what `directorstudio migrate` builds."""
    janitor = pg_server.janitor("ds_check_migrated")
    janitor.init()
    try:
        url = pg_server.url("ds_check_migrated")
        migrate(url, bootstrap=True)
        yield url
    finally:
        janitor.drop()


def _pairs(report: Any) -> set[tuple[str, str]]:
    return {(f.object, f.rule) for f in report.findings}


def test_a_freshly_migrated_database_passes_every_rule(migrated: str) -> None:
    report = run_check(migrated)
    assert _pairs(report) == set()
    assert report.passed


def test_check_names_every_injected_fault_and_exits_non_zero(
    migrated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(migrated, autocommit=True) as conn:
        for statement in FAULTS:
            conn.execute(statement)  # type: ignore[arg-type]
    capsys.readouterr()

    assert cli.main(["check", "--database-url", migrated, "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    found = {(f["object"], f["rule"]) for f in body["findings"]}
    assert body["passed"] is False
    assert found == EXPECTED

    assert cli.main(["check", "--database-url", migrated]) == 1
    output = capsys.readouterr()
    for name, rule in EXPECTED:
        assert rule in output.out
        assert name in output.err  # the summary names each failing object whole
