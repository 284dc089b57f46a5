"""The project and scene functions called the way PostgREST calls them, as two different users.

User B names user A's project and scenes in every call; each is not_found, nothing of A's is
revealed or changed.
"""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from tests.support.projects import (
    Conn,
    call_as,
    create_project,
    create_scene,
    create_user,
    snapshot_of_user,
)

A_PROJECT = uuid.UUID("a0000000-0000-0000-0000-000000000001")
A_SCENES = (
    uuid.UUID("a0000000-0000-0000-0000-0000000000a1"),
    uuid.UUID("a0000000-0000-0000-0000-0000000000a2"),
)

# (what B tries, the statement, its parameters) naming A's rows.
FOREIGN_CALLS: list[tuple[str, LiteralString, tuple[Any, ...]]] = [
    ("list A's scenes", "SELECT * FROM public.list_scene_drafts(%s)", (A_PROJECT,)),
    ("rename A's project", "SELECT * FROM public.rename_project(%s, 'Mine')", (A_PROJECT,)),
    (
        "duplicate A's project",
        "SELECT * FROM public.duplicate_project(%s, %s)",
        (A_PROJECT, uuid.UUID("b0000000-0000-0000-0000-000000000001")),
    ),
    ("archive A's project", "SELECT * FROM public.archive_project(%s)", (A_PROJECT,)),
    (
        "create a scene in A's project",
        "SELECT * FROM public.create_scene_draft(%s, %s, 'Mine', 2)",
        (uuid.UUID("b0000000-0000-0000-0000-0000000000b1"), A_PROJECT),
    ),
    (
        "update A's scene",
        'SELECT * FROM public.update_scene_draft(%s, 1, \'{"prompt_text": "Mine"}\')',
        (A_SCENES[0],),
    ),
    (
        "reorder A's scenes",
        "SELECT * FROM public.reorder_scene_drafts(%s, %s)",
        (A_PROJECT, [A_SCENES[1], A_SCENES[0]]),
    ),
    ("delete A's scene", "SELECT * FROM public.soft_delete_scene_draft(%s)", (A_SCENES[0],)),
]


@pytest.fixture
def two_users(admin_conn: Conn) -> tuple[uuid.UUID, uuid.UUID]:
    """User A with a project of two scenes; user B with a project of their own."""
    user_a = create_user(admin_conn, "a@example.com")
    user_b = create_user(admin_conn, "b@example.com")
    call_as(admin_conn, user_a, "SELECT public.upsert_project_overview(%s, 'Of A')", (A_PROJECT,))
    for number, scene_id in enumerate(A_SCENES):
        call_as(
            admin_conn,
            user_a,
            "SELECT public.create_scene_draft(%s, %s, %s, 3)",
            (scene_id, A_PROJECT, f"A scene {number}"),
        )
    create_project(admin_conn, user_b, "Of B")
    return user_a, user_b


@pytest.mark.parametrize(
    ("attempt", "query", "params"), FOREIGN_CALLS, ids=[c[0] for c in FOREIGN_CALLS]
)
def test_another_user_cannot_reach_a_users_project_or_scenes(
    admin_conn: Conn,
    two_users: tuple[uuid.UUID, uuid.UUID],
    attempt: str,
    query: LiteralString,
    params: tuple[Any, ...],
) -> None:
    user_a, user_b = two_users
    before = snapshot_of_user(admin_conn, user_a)

    with pytest.raises(DirectorStudioError) as raised:
        call_as(admin_conn, user_b, query, params)

    assert raised.value.code is ErrorCode.NOT_FOUND, attempt
    assert raised.value.detail is None
    assert snapshot_of_user(admin_conn, user_a) == before


def test_another_user_does_not_see_a_users_projects_in_their_list(
    admin_conn: Conn, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _, user_b = two_users

    listed = call_as(admin_conn, user_b, "SELECT * FROM public.list_project_overviews(true)")

    assert [row["title"] for row in listed] == ["Of B"]
    assert {row["user_id"] for row in listed} == {user_b}
    assert A_PROJECT not in {row["project_id"] for row in listed}


def test_reusing_another_users_ids_is_an_id_conflict_that_changes_nothing(
    admin_conn: Conn, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user_a, user_b = two_users
    before = snapshot_of_user(admin_conn, user_a)
    b_project = create_project(admin_conn, user_b, "Second of B")

    with pytest.raises(DirectorStudioError) as project_clash:
        call_as(admin_conn, user_b, "SELECT public.upsert_project_overview(%s, 'B')", (A_PROJECT,))
    with pytest.raises(DirectorStudioError) as scene_clash:
        call_as(
            admin_conn,
            user_b,
            "SELECT public.create_scene_draft(%s, %s, 'B', 2)",
            (A_SCENES[0], b_project),
        )

    assert project_clash.value.code is ErrorCode.ID_CONFLICT
    assert scene_clash.value.code is ErrorCode.ID_CONFLICT
    assert snapshot_of_user(admin_conn, user_a) == before
    assert (
        call_as(admin_conn, user_b, "SELECT * FROM public.list_scene_drafts(%s)", (b_project,))
        == []
    )


def test_the_owner_still_reaches_their_rows_through_the_same_calls(
    admin_conn: Conn, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user_a, _ = two_users
    extra = create_scene(admin_conn, user_a, A_PROJECT, "A scene 2")

    scenes = call_as(
        admin_conn,
        user_a,
        "SELECT * FROM public.reorder_scene_drafts(%s, %s)",
        (A_PROJECT, [extra["id"], A_SCENES[1], A_SCENES[0]]),
    )

    assert [(s["id"], s["order_index"]) for s in scenes] == [
        (extra["id"], 0),
        (A_SCENES[1], 1),
        (A_SCENES[0], 2),
    ]
