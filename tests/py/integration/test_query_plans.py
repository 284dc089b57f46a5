"""Hot queries use their indexes, shown by the plans PostgreSQL really runs inside the functions.

auto_explain reports the plan of every statement nested in a function call; with a realistic
spread of other users' rows and fresh statistics, a hot path must never scan a whole table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio.bench.database import populate
from directorstudio.bench.suite_sync_push import replay_work
from directorstudio.contracts.sync import MAX_PUSH_BATCH
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.sync import push
from tests.support.users import create_user

Conn = psycopg.Connection[Any]
USERS = 150
PROJECTS_PER_USER = 6
SCENES_PER_PROJECT = 8
LARGE_TABLES = {"project_overview", "scene_drafts"}


@pytest.fixture
def populated(admin_conn: Conn) -> tuple[uuid.UUID, uuid.UUID]:
    """Many users with projects and scenes; returns one user and one of their projects."""
    admin_conn.execute(
        """
        INSERT INTO auth.users (id, email)
        SELECT gen_random_uuid(), 'user' || n || '@example.com' FROM generate_series(1, %s) n
        """,
        (USERS,),
    )
    admin_conn.execute(
        """
        INSERT INTO public.project_overview (project_id, user_id, title)
        SELECT gen_random_uuid(), u.id, 'Project ' || n
        FROM public.app_users u, generate_series(1, %s) n
        """,
        (PROJECTS_PER_USER,),
    )
    admin_conn.execute(
        """
        INSERT INTO public.scene_drafts
            (id, user_id, project_id, order_index, prompt_text, duration)
        SELECT gen_random_uuid(), p.user_id, p.project_id, n, 'Scene ' || n, 3
        FROM public.project_overview p, generate_series(0, %s - 1) n
        """,
        (SCENES_PER_PROJECT,),
    )
    admin_conn.execute("ANALYZE")
    row = admin_conn.execute(
        "SELECT user_id, project_id FROM public.project_overview LIMIT 1"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.fixture
def plan_capture(database_url: str) -> Iterator[tuple[Conn, list[dict[str, Any]]]]:
    """A connection whose nested statement plans are collected as JSON."""
    plans: list[dict[str, Any]] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_format", "json"),
            ("auto_explain.log_level", "notice"),
            ("client_min_messages", "notice"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))

        def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
            text = diagnostic.message_primary or ""
            if "{" in text:
                plans.append(json.loads(text[text.index("{") :]))

        conn.add_notice_handler(collect)
        yield conn, plans


def _scanned(plans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(node type, relation) of every scan in the collected plans."""
    found: list[tuple[str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.append((node["Node Type"], node["Relation Name"]))
        for child in node.get("Plans", []):
            walk(child)

    for plan in plans:
        walk(plan["Plan"])
    return found


def _call_as(
    capture: tuple[Conn, list[dict[str, Any]]], user: uuid.UUID, query: str, *args: Any
) -> list[tuple[str, str]]:
    conn, plans = capture
    plans.clear()
    with request_transaction(conn, "authenticated", claims_for_user(str(user))):
        conn.execute(query, args)  # type: ignore[arg-type]
    return _scanned(plans)


def test_listing_project_overviews_reads_the_users_rows_through_an_index(
    populated: tuple[uuid.UUID, uuid.UUID], plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    user, _ = populated
    scans = _call_as(plan_capture, user, "SELECT * FROM public.list_project_overviews()")
    assert ("Seq Scan", "project_overview") not in scans
    assert any(rel == "project_overview" for _, rel in scans), scans


def test_listing_scene_drafts_reads_one_projects_rows_through_an_index(
    populated: tuple[uuid.UUID, uuid.UUID], plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    user, project = populated
    scans = _call_as(plan_capture, user, "SELECT * FROM public.list_scene_drafts(%s)", project)
    assert ("Seq Scan", "scene_drafts") not in scans
    assert any(rel == "scene_drafts" for _, rel in scans), scans


def test_creating_a_scene_never_scans_the_large_tables(
    populated: tuple[uuid.UUID, uuid.UUID], plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    user, project = populated
    scans = _call_as(
        plan_capture,
        user,
        "SELECT * FROM public.create_scene_draft(%s, %s, 'New scene', 2.5)",
        uuid.uuid4(),
        project,
    )
    assert [s for s in scans if s[0] == "Seq Scan" and s[1] in LARGE_TABLES] == []
    assert any(rel == "scene_drafts" for _, rel in scans), scans


def test_sync_pull_serves_first_and_later_pages_from_the_users_sync_index(
    populated: tuple[uuid.UUID, uuid.UUID], plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    user, _ = populated
    conn, _plans = plan_capture
    with request_transaction(conn, "authenticated", claims_for_user(str(user))):
        first = conn.execute("SELECT public.sync_pull(NULL, 10)").fetchone()
    assert first is not None
    assert first[0]["has_more"]
    first_page = _call_as(plan_capture, user, "SELECT public.sync_pull(NULL, 10)")
    later_page = _call_as(plan_capture, user, "SELECT public.sync_pull(%s, 10)", first[0]["cursor"])
    for scans in (first_page, later_page):
        assert [s for s in scans if s[0] == "Seq Scan" and s[1] in LARGE_TABLES] == []
        assert {rel for _, rel in scans} >= LARGE_TABLES, scans


def _index_scans(plans: list[dict[str, Any]], relation: str) -> list[dict[str, Any]]:
    """Every index scan node on ``relation`` in the collected plans."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == relation and "Index Name" in node:
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    for plan in plans:
        walk(plan["Plan"])
    return found


def test_a_later_sync_pull_page_starts_at_the_cursors_row_in_the_pull_index(
    populated: tuple[uuid.UUID, uuid.UUID], plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    # Every project of the user was written by one transaction, so the second page continues
    # inside that transaction: the index must start at the cursor's (sync_txid, id), not read
    # the transaction's rows from its beginning.
    user, _ = populated
    conn, plans = plan_capture
    with request_transaction(conn, "authenticated", claims_for_user(str(user))):
        first = conn.execute("SELECT public.sync_pull(NULL, 2)").fetchone()
    assert first is not None
    assert first[0]["has_more"]
    assert {c["table"] for c in first[0]["changes"]} == {"project_overview"}
    conn.execute("SELECT set_config('auto_explain.log_analyze', 'on', false)")
    _call_as(plan_capture, user, "SELECT public.sync_pull(%s, 2)", first[0]["cursor"])
    scans = _index_scans(plans, "project_overview")
    positioned = [
        s
        for s in scans
        if s["Index Name"] == "ix_project_overview_user_sync_id"
        and "ROW(sync_txid, project_id) >" in s.get("Index Cond", "")
    ]
    assert positioned, scans
    assert all(s["Actual Rows"] <= 3 for s in positioned), positioned


@pytest.fixture
def unseen_user(admin_conn: Conn) -> tuple[uuid.UUID, dict[uuid.UUID, list[uuid.UUID]]]:
    """Other users' rows, analyzed, then a user with many rows the statistics never saw (a new
    user who imported a lot): the user, and each of their projects' scenes in order."""
    # Fewer users than the statistics target: each one is a most common value, so the planner
    # believes that a user it has not seen has no rows at all.
    admin_conn.execute(
        "INSERT INTO auth.users (id, email)"
        " SELECT gen_random_uuid(), 'other' || n || '@example.com' FROM generate_series(1, 40) n"
    )
    admin_conn.execute(
        "INSERT INTO public.project_overview (project_id, user_id, title)"
        " SELECT gen_random_uuid(), u.id, 'Project ' || n"
        " FROM public.app_users u, generate_series(1, 10) n"
    )
    admin_conn.execute(
        "INSERT INTO public.scene_drafts"
        " (id, user_id, project_id, order_index, prompt_text, duration)"
        " SELECT gen_random_uuid(), p.user_id, p.project_id, n, 'Scene ' || n, 3"
        " FROM public.project_overview p, generate_series(0, 9) n"
    )
    admin_conn.execute("ANALYZE")
    user = uuid.uuid4()
    admin_conn.execute(
        "INSERT INTO auth.users (id, email) VALUES (%s, 'importer@example.com')", (user,)
    )
    admin_conn.execute(
        "INSERT INTO public.project_overview (project_id, user_id, title)"
        " SELECT gen_random_uuid(), %s, 'Imported ' || n FROM generate_series(1, 30) n",
        (user,),
    )
    admin_conn.execute(
        "INSERT INTO public.scene_drafts"
        " (id, user_id, project_id, order_index, prompt_text, duration)"
        " SELECT gen_random_uuid(), p.user_id, p.project_id, n, 'Scene ' || n, 3"
        " FROM public.project_overview p, generate_series(0, 19) n WHERE p.user_id = %s",
        (user,),
    )
    scenes: dict[uuid.UUID, list[uuid.UUID]] = {}
    for project, scene in admin_conn.execute(
        "SELECT project_id, id FROM public.scene_drafts WHERE user_id = %s"
        " ORDER BY project_id, order_index",
        (user,),
    ):
        scenes.setdefault(project, []).append(scene)
    return user, scenes


def _user_leading_indexes(conn: Conn) -> set[str]:
    """The indexes of the large tables whose first column is user_id."""
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid IN ('public.project_overview'::regclass, 'public.scene_drafts'::regclass)
            AND a.attname = 'user_id'
        """
    ).fetchall()
    return {r[0] for r in rows}


def _written_in(plan: dict[str, Any], source: str) -> bool:
    """Whether the planned statement is one of ``source``'s. PL/pgSQL takes the INTO clause out
    of a statement's text; its start and its last line remain."""
    text = str(plan.get("Query Text", ""))
    return text[:120] in source and text[-60:] in source


def _push_statement_scans(conn: Conn, plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scans of the large tables by statements written in sync_push's own functions and in
    the project totals refresh its writes trigger (the other triggers' statements have tests of
    their own)."""
    sources = [
        r[0]
        for r in conn.execute(
            "SELECT p.prosrc FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
            " WHERE n.nspname IN ('public', 'private')"
            " AND (p.proname LIKE 'sync\\_%' OR p.proname = 'refresh_project_totals')"
        )
    ]
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") in LARGE_TABLES and node["Node Type"] != "ModifyTable":
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    for plan in plans:
        if any(_written_in(plan, source) for source in sources):
            walk(plan["Plan"])
    return found


def _walks(conn: Conn, plans: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The scans by sync_push's statements that read a large table whole or walk a user's rows:
    sequential scans, and index or bitmap scans through an index that leads with user_id."""
    user_leading = _user_leading_indexes(conn)
    return [
        (s["Relation Name"], s["Node Type"], s.get("Index Name"), s.get("Actual Rows"),
         str(s.get("Index Cond") or s.get("Recheck Cond")))
        for s in _push_statement_scans(conn, plans)
        if s["Node Type"] == "Seq Scan"
        or s.get("Index Name") in user_leading
        or any(c.get("Index Name") in user_leading for c in s.get("Plans", []))
    ]  # fmt: skip


def test_sync_push_finds_rows_by_key_when_the_statistics_have_not_seen_the_users_rows(
    unseen_user: tuple[uuid.UUID, dict[uuid.UUID, list[uuid.UUID]]],
    plan_capture: tuple[Conn, list[dict[str, Any]]],
) -> None:
    # Planned for a user with no rows, a lookup by id or project that walks the user's index
    # reads every row of the user; by key it reads the rows it names, however many the user has.
    user, projects = unseen_user
    conn, plans = plan_capture
    mutations: list[dict[str, Any]] = []

    def add(table: str, op: str, row: uuid.UUID, args: dict[str, Any]) -> None:
        mutations.append({"mutation_id": len(mutations) + 1, "table": table, "op": op,
                          "id": str(row), "args": args})  # fmt: skip

    add("project_overview", "upsert", uuid.uuid4(), {"title": "New"})
    for project, scenes in list(projects.items())[:5]:
        created = uuid.uuid4()
        add("scene_drafts", "create", created,
            {"project_id": str(project), "prompt_text": "New", "duration": 2.0})  # fmt: skip
        add("scene_drafts", "update", scenes[0], {"patch": {"prompt_text": "Edited"}})
        mutations[-1]["base_version"] = 1
        order = [str(s) for s in reversed([*scenes, created])]
        add("scene_drafts", "reorder", project, {"project_id": str(project), "ordered_ids": order})
        add("scene_drafts", "delete", scenes[1], {})
    _push_logged(plan_capture, user, mutations)
    scans = _push_statement_scans(conn, plans)
    assert any(s["Relation Name"] == "scene_drafts" for s in scans), plans
    assert _walks(conn, plans) == []


def _rows_dropped_by_join_filters(conn: Conn, plans: list[dict[str, Any]], function: str) -> int:
    """Rows that joins in the statements of ``function`` read and then dropped."""
    row = conn.execute(
        "SELECT p.prosrc FROM pg_proc AS p WHERE p.oid = %s::regproc", (function,)
    ).fetchone()
    assert row is not None
    dropped = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal dropped
        dropped += int(node.get("Rows Removed by Join Filter", 0))
        for child in node.get("Plans", []):
            walk(child)

    for plan in plans:
        if _written_in(plan, row[0]):
            walk(plan["Plan"])
    return dropped


def _push_logged(
    capture: tuple[Conn, list[dict[str, Any]]],
    user: uuid.UUID,
    mutations: list[dict[str, Any]],
    client: uuid.UUID | None = None,
) -> None:
    """One push of ``mutations`` (those without a number numbered here), every one applied,
    its plans analyzed."""
    conn, plans = capture
    for n, mutation in enumerate(mutations, start=1):
        mutation.setdefault("mutation_id", n)
    conn.execute("SELECT set_config('auto_explain.log_analyze', 'on', false)")
    plans.clear()
    with request_transaction(conn, "authenticated", claims_for_user(str(user))):
        answer = conn.execute(
            "SELECT public.sync_push(%s, %s::jsonb)",
            (str(client or uuid.uuid4()), json.dumps(mutations)),
        ).fetchone()
    assert answer is not None
    assert [r["outcome"] for r in answer[0]["results"]] == ["applied"] * len(mutations)


# A join that pairs a group's mutations with each other, or with their rows, by a filter reads
# mutations x mutations rows: its cost grows with the square of the batch.


def test_a_push_of_many_scene_creates_pairs_each_create_with_its_row_by_key(
    admin_conn: Conn, plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    user = create_user(admin_conn)
    mutations: list[dict[str, Any]] = []
    for _ in range(30):
        project = str(uuid.uuid4())
        mutations.append({"table": "project_overview", "op": "upsert", "id": project,
                          "args": {"title": "Film"}})  # fmt: skip
        mutations.extend(
            {"table": "scene_drafts", "op": "create", "id": str(uuid.uuid4()),
             "args": {"project_id": project, "prompt_text": "Scene", "duration": 2.0}}
            for _ in range(10)
        )  # fmt: skip

    _push_logged(plan_capture, user, mutations)

    conn, plans = plan_capture
    assert _rows_dropped_by_join_filters(conn, plans, "private.sync_set_scene_creates") < 30


def test_a_push_of_many_scene_edits_and_deletes_pairs_each_with_its_row_by_key(
    unseen_user: tuple[uuid.UUID, dict[uuid.UUID, list[uuid.UUID]]],
    plan_capture: tuple[Conn, list[dict[str, Any]]],
) -> None:
    user, projects = unseen_user
    mutations: list[dict[str, Any]] = []
    for scenes in projects.values():
        mutations.extend(
            {"table": "scene_drafts", "op": "update", "id": str(s), "base_version": 1,
             "args": {"patch": {"prompt_text": "Edited"}}}
            for s in scenes[:7]
        )  # fmt: skip
        mutations.extend(
            {"table": "scene_drafts", "op": "delete", "id": str(s), "args": {}}
            for s in scenes[7:14]
        )

    _push_logged(plan_capture, user, mutations)

    conn, plans = plan_capture
    dropped = {
        step: _rows_dropped_by_join_filters(conn, plans, f"private.sync_set_scene_{step}")
        for step in ("updates", "deletes")
    }
    assert max(dropped.values()) < 30, dropped


def test_a_replay_in_full_batches_reads_only_the_rows_it_names(
    admin_conn: Conn, plan_capture: tuple[Conn, list[dict[str, Any]]]
) -> None:
    # The bench's replay: the statistics know other users' rows and not this user's. A lookup
    # joined by a hash instead of by key then reads every project of the account per batch.
    populate(admin_conn, 50)
    user = create_user(admin_conn)
    conn, plans = plan_capture
    client = uuid.uuid4()
    work = replay_work(150)
    # Earlier batches in another session, then one in a session of its own.
    for at in range(0, 2 * MAX_PUSH_BATCH, MAX_PUSH_BATCH):
        push(admin_conn, user, client, work[at : at + MAX_PUSH_BATCH])
    _push_logged(plan_capture, user, work[2 * MAX_PUSH_BATCH : 3 * MAX_PUSH_BATCH], client)

    assert _walks(conn, plans) == []
