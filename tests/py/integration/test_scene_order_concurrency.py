"""Concurrent scene writers of one project leave a consistent order.

Every test starts its writers on their own connections behind a barrier, so the calls really
race; the project row lock inside the functions must serialise them.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from tests.support.projects import (
    Conn,
    Row,
    call_as,
    create_project,
    create_scene,
    create_user,
    live_scenes,
)

Task = Callable[[Conn], Any]


def _race(database_url: str, tasks: list[Task]) -> list[Any]:
    """Runs every task on its own connection at the same moment; errors are returned, not raised."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Task) -> Any:
        with psycopg.connect(database_url, autocommit=True) as conn:
            barrier.wait(timeout=30)
            try:
                return task(conn)
            except DirectorStudioError as error:
                return error

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def _creator(
    user: uuid.UUID, project: uuid.UUID, prompt: str, order_index: int | None = None
) -> Task:
    def task(conn: Conn) -> list[Row]:
        return call_as(
            conn,
            user,
            "SELECT * FROM public.create_scene_draft(%s, %s, %s, 2, NULL, NULL, %s)",
            (uuid.uuid4(), project, prompt, order_index),
        )

    return task


def _reorderer(user: uuid.UUID, project: uuid.UUID, ids: list[uuid.UUID]) -> Task:
    def task(conn: Conn) -> list[Row]:
        return call_as(
            conn, user, "SELECT * FROM public.reorder_scene_drafts(%s, %s)", (project, ids)
        )

    return task


def _indexes(scenes: list[Row]) -> list[int]:
    return [int(scene["order_index"]) for scene in scenes]


def test_concurrent_creates_in_one_project_get_distinct_contiguous_order_indexes(
    admin_conn: Conn, database_url: str
) -> None:
    user = create_user(admin_conn, "creates@example.com")
    project = create_project(admin_conn, user)

    results = _race(database_url, [_creator(user, project, f"scene {n}") for n in range(8)])

    assert not [r for r in results if isinstance(r, DirectorStudioError)]
    created = sorted(int(rows[0]["order_index"]) for rows in results)
    assert created == list(range(8))
    assert _indexes(live_scenes(admin_conn, project)) == list(range(8))
    assert admin_conn.execute(
        "SELECT scene_count FROM public.project_overview WHERE project_id = %s", (project,)
    ).fetchone() == (8,)


def test_concurrent_creates_at_the_front_shift_the_others_without_duplicates(
    admin_conn: Conn, database_url: str
) -> None:
    user = create_user(admin_conn, "front@example.com")
    project = create_project(admin_conn, user)
    originals = [create_scene(admin_conn, user, project, f"original {n}")["id"] for n in range(3)]

    results = _race(database_url, [_creator(user, project, f"front {n}", 0) for n in range(6)])

    assert not [r for r in results if isinstance(r, DirectorStudioError)]
    scenes = live_scenes(admin_conn, project)
    assert _indexes(scenes) == list(range(9))
    assert [scene["id"] for scene in scenes[6:]] == originals


def test_concurrent_reorders_leave_exactly_one_of_the_given_orders(
    admin_conn: Conn, database_url: str
) -> None:
    user = create_user(admin_conn, "reorders@example.com")
    project = create_project(admin_conn, user)
    ids = [create_scene(admin_conn, user, project, f"scene {n}")["id"] for n in range(8)]
    orders = [random.Random(seed).sample(ids, len(ids)) for seed in range(6)]

    results = _race(database_url, [_reorderer(user, project, order) for order in orders])

    assert not [r for r in results if isinstance(r, DirectorStudioError)]
    for order, rows in zip(orders, results, strict=True):
        assert [row["id"] for row in rows] == order
    scenes = live_scenes(admin_conn, project)
    assert _indexes(scenes) == list(range(8))
    assert [scene["id"] for scene in scenes] in orders


def test_a_reorder_racing_appends_keeps_its_order_and_the_appends_follow(
    admin_conn: Conn, database_url: str
) -> None:
    for round_number in range(5):
        user = create_user(admin_conn, f"mixed{round_number}@example.com")
        project = create_project(admin_conn, user)
        ids = [create_scene(admin_conn, user, project, f"scene {n}")["id"] for n in range(5)]
        reversed_ids = list(reversed(ids))
        tasks = [_reorderer(user, project, reversed_ids)]
        tasks += [_creator(user, project, f"append {n}") for n in range(4)]

        reorder_result, *create_results = _race(database_url, tasks)

        assert not [r for r in create_results if isinstance(r, DirectorStudioError)]
        scenes = live_scenes(admin_conn, project)
        assert _indexes(scenes) == list(range(9))
        assert {scene["id"] for scene in scenes[5:]} == {rows[0]["id"] for rows in create_results}
        original_order = [scene["id"] for scene in scenes[:5]]
        if isinstance(reorder_result, DirectorStudioError):
            # An append committed first: the reorder's list was stale and changed nothing.
            assert reorder_result.code is ErrorCode.STALE_ORDER
            assert original_order == ids
        else:
            assert original_order == reversed_ids
