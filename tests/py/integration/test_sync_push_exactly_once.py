"""Push applies every mutation exactly once, one mutation's failure never blocks the others, and
pushed writes obey RLS and the contract functions' rules exactly as direct calls do."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg

from directorstudio.db.context import request_transaction
from tests.support.sync import Conn, create_user, push


def _grant(conn: Conn, user: uuid.UUID, amount: int) -> None:
    with request_transaction(conn, "service_role"):
        conn.execute(
            "SELECT public.grant_credits(%s, %s, %s, %s)",
            (str(user), amount, f"grant-{uuid.uuid4()}", user),
        )


def _balance(admin: Conn, user: uuid.UUID) -> tuple[int, int]:
    """(credits left, credit transactions) of the user's account."""
    row = admin.execute(
        "SELECT l.credits, (SELECT count(*) FROM public.credit_transactions AS t"
        " WHERE t.user_key = l.user_key) FROM public.credits_ledger AS l WHERE l.user_key = %s",
        (str(user),),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _count(admin: Conn, table: str, user: uuid.UUID) -> int:
    row = admin.execute(
        f"SELECT count(*) FROM public.{table} WHERE user_id = %s", (user,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def _film_batch(project: uuid.UUID, scene: uuid.UUID) -> list[dict[str, Any]]:
    """A project, a scene, its (free) first clip and a second clip that costs a credit."""
    return [
        {
            "mutation_id": 1,
            "table": "project_overview",
            "op": "upsert",
            "id": str(project),
            "base_version": None,
            "args": {"title": "Offline film"},
        },
        {
            "mutation_id": 2,
            "table": "scene_drafts",
            "op": "create",
            "id": str(scene),
            "args": {"project_id": str(project), "prompt_text": "Opening", "duration": 4},
        },
        {
            "mutation_id": 3,
            "table": "clip_jobs",
            "op": "enqueue",
            "id": str(uuid.uuid4()),
            "args": {"prompt": "Opening", "project_id": str(project), "scene_draft_id": str(scene)},
        },
        {
            "mutation_id": 4,
            "table": "clip_jobs",
            "op": "enqueue",
            "id": str(uuid.uuid4()),
            "args": {"prompt": "Opening again", "scene_draft_id": str(scene)},
        },
    ]


def test_a_push_whose_acknowledgement_is_lost_is_replayed_and_applies_once(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "replay@example.com")
    _grant(admin_conn, user, 5)
    client = uuid.uuid4()
    batch = _film_batch(uuid.uuid4(), uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as conn:
        first = push(conn, user, client, batch)  # the acknowledgement of this call is "lost"
        after_first = _balance(admin_conn, user)
        replay = push(conn, user, client, batch)

    assert [r["outcome"] for r in first] == ["applied"] * 4
    assert [r["outcome"] for r in replay] == ["duplicate"] * 4
    assert [r["row"] for r in replay] == [r["row"] for r in first]
    # 5 granted, the first clip free, the second one credit: charged once, not twice.
    assert after_first == (4, 3)
    assert _balance(admin_conn, user) == (4, 3)
    assert _count(admin_conn, "scene_drafts", user) == 1
    assert _count(admin_conn, "clip_jobs", user) == 2
    recorded = admin_conn.execute(
        "SELECT count(*) FROM private.sync_mutations WHERE client_id = %s", (client,)
    ).fetchone()
    assert recorded == (4,)


def test_a_batch_replayed_while_the_original_is_still_running_applies_once(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "racing-replay@example.com")
    _grant(admin_conn, user, 5)
    client = uuid.uuid4()
    batch = _film_batch(uuid.uuid4(), uuid.uuid4())
    barrier = threading.Barrier(2)
    outcomes: list[list[str]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                barrier.wait(timeout=30)
                outcomes.append([r["outcome"] for r in push(conn, user, client, batch)])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == [["applied"] * 4, ["duplicate"] * 4]
    assert _balance(admin_conn, user) == (4, 3)
    assert _count(admin_conn, "clip_jobs", user) == 2


def test_a_batch_with_one_rejected_mutation_applies_the_others(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "partial@example.com")
    project, good_scene, bad_scene = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    batch = [
        {"mutation_id": 10, "table": "project_overview", "op": "upsert", "id": str(project)},
        {
            "mutation_id": 11,
            "table": "scene_drafts",
            "op": "create",
            "id": str(bad_scene),
            "args": {"project_id": str(project), "prompt_text": "Too long", "duration": 601},
        },
        {
            "mutation_id": 12,
            "table": "scene_drafts",
            "op": "create",
            "id": str(good_scene),
            "args": {"project_id": str(project), "prompt_text": "Fine", "duration": 5},
        },
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        results = push(conn, user, uuid.uuid4(), batch)

    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["error"]["code"] == "invalid_input"
    assert results[1]["error"]["message"]
    ids = {
        str(row[0])
        for row in admin_conn.execute(
            "SELECT id FROM public.scene_drafts WHERE user_id = %s", (user,)
        ).fetchall()
    }
    assert ids == {str(good_scene)}


def test_a_pushed_update_of_another_users_scene_is_rejected_and_changes_nothing(
    database_url: str, admin_conn: Conn
) -> None:
    owner = create_user(admin_conn, "owner@example.com")
    intruder = create_user(admin_conn, "intruder@example.com")
    _grant(admin_conn, owner, 3)
    project, scene = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        push(conn, owner, uuid.uuid4(), _film_batch(project, scene)[:2])
        before = admin_conn.execute(
            "SELECT prompt_text, version FROM public.scene_drafts WHERE id = %s", (scene,)
        ).fetchone()
        results = push(
            conn,
            intruder,
            uuid.uuid4(),
            [
                {
                    "mutation_id": 1,
                    "table": "scene_drafts",
                    "op": "update",
                    "id": str(scene),
                    "base_version": 1,
                    "args": {"patch": {"prompt_text": "Hijacked"}},
                },
                {
                    "mutation_id": 2,
                    "table": "clip_jobs",
                    "op": "enqueue",
                    "id": str(uuid.uuid4()),
                    "args": {"prompt": "On their credits", "user_key": str(owner)},
                },
            ],
        )

    assert [(r["outcome"], r["error"]["code"]) for r in results] == [
        ("rejected", "not_found"),
        ("rejected", "not_found"),
    ]
    after = admin_conn.execute(
        "SELECT prompt_text, version FROM public.scene_drafts WHERE id = %s", (scene,)
    ).fetchone()
    assert after == before == ("Opening", 1)
    assert _balance(admin_conn, owner)[0] == 3
    assert _count(admin_conn, "clip_jobs", intruder) == 0
