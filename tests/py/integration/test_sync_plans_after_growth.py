"""A session's sync plans, made while the tables were empty, keep reading by key as they grow.

PostgREST keeps its sessions, and PL/pgSQL keeps each session's plans of the push and pull
statements (generic plans, planned once). A plan made while a table's statistics said it was
empty would read it whole if it were a sequential scan, at every later request of the session,
however large the table grew, until the next ANALYZE. So each test analyzes the empty tables,
warms a session on them, fills the tables behind the planner's back (no ANALYZE), and counts
the sequential scans of that session's next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from directorstudio.contracts.sync import SYNCED_TABLES
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.sync import Conn, create_user

SYNCED = set(SYNCED_TABLES)
WARM_UP_REQUESTS = 8  # past the plan cache's five custom plans


@pytest.fixture
def conns(database_url: str) -> Iterator[tuple[Conn, Conn]]:
    with (
        psycopg.connect(database_url, autocommit=True) as admin,
        psycopg.connect(database_url, autocommit=True) as session,
    ):
        yield admin, session


def _project_work(start: int) -> list[dict[str, Any]]:
    project, scene = str(uuid.uuid4()), str(uuid.uuid4())
    return [
        {"mutation_id": start, "table": "project_overview", "op": "upsert", "id": project,
         "args": {"title": "Grown"}},
        {"mutation_id": start + 1, "table": "scene_drafts", "op": "create", "id": scene,
         "args": {"project_id": project, "prompt_text": "Scene", "duration": 2.0,
                  "order_index": 0}},
        {"mutation_id": start + 2, "table": "scene_drafts", "op": "update", "id": scene,
         "args": {"patch": {"prompt_text": "Edited"}}, "base_version": None,
         "base_mutation_id": start + 1},
    ]  # fmt: skip


def _grow_behind_the_planner(admin: Conn, rows: int) -> None:
    """Another user's projects, scenes and push records, with no ANALYZE after them."""
    other = create_user(admin)
    admin.execute(
        "INSERT INTO public.project_overview (project_id, user_id, title)"
        " SELECT gen_random_uuid(), %s, 'Other ' || n FROM generate_series(1, %s) n",
        (other, rows),
    )
    admin.execute(
        "INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text,"
        " duration) SELECT gen_random_uuid(), user_id, project_id, 0, 'Other', 1"
        " FROM public.project_overview WHERE user_id = %s",
        (other,),
    )
    admin.execute(
        "INSERT INTO private.sync_mutations (user_id, client_id, mutation_id, outcome)"
        " SELECT %s, gen_random_uuid(), n, '{}'::jsonb FROM generate_series(1, %s) n",
        (other, rows),
    )


def _sequential_scans(session: Conn, user: uuid.UUID, sql: str, params: tuple[Any, ...]) -> Any:
    """The tables the request read by sequential scan, with how many scans each."""
    with request_transaction(session, "authenticated", claims_for_user(str(user))):
        session.execute(sql, params)
        rows = session.execute(
            "SELECT relname, seq_scan FROM pg_stat_xact_all_tables"
            " WHERE schemaname IN ('public', 'private') AND seq_scan > 0 ORDER BY relname"
        ).fetchall()
    return dict(rows)


def test_a_push_looks_up_records_rows_and_projects_by_key_after_the_tables_grew(
    conns: tuple[Conn, Conn],
) -> None:
    admin, session = conns
    user = create_user(admin)
    admin.execute("ANALYZE")
    client = uuid.uuid4()
    push = "SELECT public.sync_push(%s, %s)"
    for n in range(WARM_UP_REQUESTS):
        _sequential_scans(session, user, push, (client, Jsonb(_project_work(1 + 3 * n))))
    _grow_behind_the_planner(admin, 5000)

    scans = _sequential_scans(
        session, user, push, (client, Jsonb(_project_work(1 + 3 * WARM_UP_REQUESTS)))
    )

    assert {t: n for t, n in scans.items() if t in {*SYNCED, "sync_mutations"}} == {}


def test_a_pull_reads_every_synced_table_by_its_index_after_the_tables_grew(
    conns: tuple[Conn, Conn],
) -> None:
    admin, session = conns
    user = create_user(admin)
    admin.execute("ANALYZE")
    pull = "SELECT public.sync_pull(NULL, 100)"
    for _ in range(WARM_UP_REQUESTS):
        _sequential_scans(session, user, pull, ())
    _grow_behind_the_planner(admin, 5000)

    scans = _sequential_scans(session, user, pull, ())

    assert {t: n for t, n in scans.items() if t in SYNCED} == {}
