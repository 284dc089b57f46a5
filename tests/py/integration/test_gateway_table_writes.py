"""The table endpoints write under RLS as the caller, as supabase-py sends the writes: own rows
inserted, upserted and updated; another user's rows never changed; what grants refuse is
PostgreSQL's 42501 (403); bad bodies PostgREST's errors, changing nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError

from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)


class User:
    """A signed-in supabase-py client and its user id."""

    def __init__(self, gateway: RunningGateway) -> None:
        self.client = sync_client(gateway)
        self.id = str(self.client.auth.sign_in_anonymously().user.id)
        self.token = str(self.client.auth.get_session().access_token)

    def projects(self) -> Any:
        return self.client.table("project_overview")

    def project(self, title: str) -> dict[str, Any]:
        return {"project_id": str(uuid.uuid4()), "user_id": self.id, "title": title}


@pytest.fixture
def owner(gateway: RunningGateway) -> User:
    return User(gateway)


@pytest.fixture
def victim(gateway: RunningGateway) -> User:
    user = User(gateway)
    user.projects().insert(user.project("Victim's")).execute()
    return user


def titles(conn: psycopg.Connection[Any], user: User) -> list[str]:
    rows = conn.execute(
        "SELECT title FROM public.project_overview WHERE user_id = %s ORDER BY title", (user.id,)
    ).fetchall()
    return [row[0] for row in rows]


def raw(
    gateway: RunningGateway, user: User, method: str, path: str, body: Any = None, **headers: str
) -> httpx.Response:
    return httpx.request(
        method,
        f"{gateway.url}/rest/v1/{path}",
        json=body,
        headers={
            "apikey": gateway.keys.anon_key,
            "Authorization": f"Bearer {user.token}",
            **headers,
        },
        timeout=30,
    )


def test_inserting_one_row_answers_it_and_stores_it(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Fresh")
    result = owner.projects().insert(row).execute()
    assert [(r["project_id"], r["title"], r["version"]) for r in result.data] == [
        (row["project_id"], "Fresh", 1)
    ]
    assert titles(admin_conn, owner) == ["Fresh"]


def test_inserting_many_rows_stores_them_all(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    rows = [owner.project(title) for title in ("One", "Two", "Three")]
    assert len(owner.projects().insert(rows).execute().data) == 3
    assert titles(admin_conn, owner) == ["One", "Three", "Two"]


def test_a_row_for_another_user_is_refused_403_and_not_stored(
    owner: User, victim: User, admin_conn: psycopg.Connection[Any]
) -> None:
    forged = {**owner.project("Planted"), "user_id": victim.id}
    with pytest.raises(APIError) as raised:
        owner.projects().insert(forged).execute()
    assert raised.value.code == "42501"
    assert titles(admin_conn, victim) == ["Victim's"]


def test_an_upsert_merges_a_duplicate_into_the_existing_row(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Draft")
    owner.projects().insert(row).execute()
    result = owner.projects().upsert({**row, "title": "Final"}).execute()
    assert [r["title"] for r in result.data] == ["Final"]
    again = owner.projects().upsert({**row, "title": "Final"}, on_conflict="project_id").execute()
    assert [r["version"] for r in again.data] == [result.data[0]["version"]]
    assert titles(admin_conn, owner) == ["Final"]


def test_ignoring_duplicates_keeps_the_existing_row(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Kept")
    owner.projects().insert(row).execute()
    owner.projects().upsert({**row, "title": "Lost"}, ignore_duplicates=True).execute()
    assert titles(admin_conn, owner) == ["Kept"]


def test_an_upsert_onto_another_users_row_changes_nothing(
    owner: User, victim: User, admin_conn: psycopg.Connection[Any]
) -> None:
    taken = victim.projects().select("project_id").execute().data[0]["project_id"]
    with pytest.raises(APIError) as raised:
        owner.projects().upsert(
            {"project_id": taken, "user_id": owner.id, "title": "Taken over"}
        ).execute()
    assert raised.value.code in ("42501", "23505")
    assert titles(admin_conn, victim) == ["Victim's"]
    assert titles(admin_conn, owner) == []


def test_an_update_changes_the_filtered_own_rows_only(
    owner: User, victim: User, admin_conn: psycopg.Connection[Any]
) -> None:
    owner.projects().insert([owner.project("A"), owner.project("B")]).execute()
    changed = owner.projects().update({"title": "A2"}).eq("title", "A").execute()
    assert [r["title"] for r in changed.data] == ["A2"]
    hidden = owner.projects().update({"title": "Taken over"}).eq("user_id", victim.id).execute()
    assert hidden.data == []
    assert titles(admin_conn, owner) == ["A2", "B"]
    assert titles(admin_conn, victim) == ["Victim's"]


def test_a_user_may_not_hard_delete_and_nothing_is_deleted(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Stays")
    owner.projects().insert(row).execute()
    with pytest.raises(APIError) as raised:
        owner.projects().delete().eq("project_id", row["project_id"]).execute()
    assert raised.value.code == "42501"
    assert titles(admin_conn, owner) == ["Stays"]


def test_the_service_role_deletes_the_filtered_rows(
    gateway: RunningGateway, victim: User, admin_conn: psycopg.Connection[Any]
) -> None:
    service = sync_client(gateway, gateway.keys.service_role_key)
    deleted = service.table("project_overview").delete().eq("user_id", victim.id).execute()
    assert [r["title"] for r in deleted.data] == ["Victim's"]
    assert titles(admin_conn, victim) == []


def test_an_update_or_delete_without_a_filter_is_refused(
    gateway: RunningGateway, owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    owner.projects().insert(owner.project("Whole")).execute()
    for method, body in (("PATCH", {"title": "All"}), ("DELETE", None)):
        reply = raw(gateway, owner, method, "project_overview", body)
        assert (reply.status_code, reply.json()["code"]) == (400, "21000")
    assert titles(admin_conn, owner) == ["Whole"]


def test_return_minimal_answers_201_and_204_without_a_body(
    gateway: RunningGateway, owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Quiet")
    created = raw(gateway, owner, "POST", "project_overview", row, Prefer="return=minimal")
    assert (created.status_code, created.content) == (201, b"")
    path = f"project_overview?project_id=eq.{row['project_id']}"
    updated = raw(gateway, owner, "PATCH", path, {"title": "Quieter"}, Prefer="return=minimal")
    assert (updated.status_code, updated.content) == (204, b"")
    assert titles(admin_conn, owner) == ["Quieter"]


def test_an_unknown_column_or_mismatched_keys_are_refused_and_store_nothing(
    gateway: RunningGateway, owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    unknown = raw(gateway, owner, "POST", "project_overview", {**owner.project("X"), "nope": 1})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "PGRST204")
    mixed = [owner.project("Y"), {"project_id": str(uuid.uuid4()), "user_id": owner.id}]
    mismatched = raw(gateway, owner, "POST", "project_overview", mixed)
    assert (mismatched.status_code, mismatched.json()["code"]) == (400, "PGRST102")
    not_rows = raw(gateway, owner, "POST", "project_overview", [1, 2])
    assert (not_rows.status_code, not_rows.json()["code"]) == (400, "PGRST102")
    assert titles(admin_conn, owner) == []


def test_asking_for_one_object_from_a_write_of_two_rows_rolls_it_back(
    gateway: RunningGateway, owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    reply = raw(
        gateway,
        owner,
        "POST",
        "project_overview",
        [owner.project("P"), owner.project("Q")],
        Prefer="return=representation",
        Accept="application/vnd.pgrst.object+json",
    )
    assert (reply.status_code, reply.json()["code"]) == (406, "PGRST116")
    assert titles(admin_conn, owner) == []


def test_a_replayed_insert_is_a_409_conflict_and_keeps_the_row(
    owner: User, admin_conn: psycopg.Connection[Any]
) -> None:
    row = owner.project("Once")
    owner.projects().insert(row).execute()
    with pytest.raises(APIError) as raised:
        owner.projects().insert({**row, "title": "Twice"}).execute()
    assert raised.value.code == "23505"
    assert titles(admin_conn, owner) == ["Once"]
