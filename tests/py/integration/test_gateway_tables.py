"""The table endpoints read under RLS as the caller, with PostgREST's grammar, as supabase-py
sends it: own rows visible, other users' invisible, unknown relations and columns PostgREST's
errors."""

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


def signed_in(gateway: RunningGateway, titles: tuple[str, ...]) -> Any:
    """A new anonymous user owning one project per title."""
    client = sync_client(gateway)
    client.auth.sign_in_anonymously()
    for title in titles:
        client.rpc(
            "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": title}
        ).execute()
    return client


@pytest.fixture
def owner(gateway: RunningGateway) -> Any:
    return signed_in(gateway, ("Gamma", "Alpha", "Beta"))


@pytest.fixture
def stranger(gateway: RunningGateway) -> Any:
    return signed_in(gateway, ("Secret",))


def raw(gateway: RunningGateway, method: str, path: str, **headers: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{gateway.url}/rest/v1/{path}",
        headers={"apikey": gateway.keys.anon_key, **headers},
        timeout=30,
    )


def token_of(client: Any) -> str:
    return str(client.auth.get_session().access_token)


def test_a_user_reads_their_own_rows_and_never_another_users(owner: Any, stranger: Any) -> None:
    rows = owner.table("project_overview").select("title").order("title").execute().data
    assert rows == [{"title": "Alpha"}, {"title": "Beta"}, {"title": "Gamma"}]
    assert stranger.table("project_overview").select("title").execute().data == [
        {"title": "Secret"}
    ]


def test_filters_order_range_and_an_exact_count_shape_the_page(owner: Any) -> None:
    result = (
        owner.table("project_overview")
        .select("name:title", count="exact")
        .neq("title", "Gamma")
        .order("title", desc=True)
        .range(0, 0)
        .execute()
    )
    assert result.data == [{"name": "Beta"}]
    assert result.count == 2


def test_in_like_and_is_filters_select_the_matching_rows(owner: Any) -> None:
    table = owner.table("project_overview").select("title").order("title")
    assert table.in_("title", ["Alpha", "Gamma"]).execute().data == [
        {"title": "Alpha"},
        {"title": "Gamma"},
    ]
    assert [
        r["title"]
        for r in owner.table("project_overview")
        .select("title")
        .ilike("title", "%ET%")
        .execute()
        .data
    ] == ["Beta"]
    assert owner.table("project_overview").select("title").is_("deleted_at", "null").execute().data


def test_single_answers_one_object_or_pgrst116(owner: Any) -> None:
    one = owner.table("project_overview").select("title").eq("title", "Beta").single().execute()
    assert one.data == {"title": "Beta"}
    with pytest.raises(APIError) as raised:
        owner.table("project_overview").select("title").single().execute()
    assert raised.value.code == "PGRST116"


def test_head_with_an_exact_count_answers_the_count_without_rows(
    gateway: RunningGateway, owner: Any
) -> None:
    result = owner.table("project_overview").select("*", count="exact", head=True).execute()
    assert result.count == 3
    reply = raw(
        gateway,
        "HEAD",
        "project_overview",
        Authorization=f"Bearer {token_of(owner)}",
        Prefer="count=exact",
    )
    assert (reply.status_code, reply.headers["content-range"], reply.content) == (
        200,
        "0-2/3",
        b"",
    )


def test_a_partial_counted_page_is_206_with_content_range(
    gateway: RunningGateway, owner: Any
) -> None:
    reply = raw(
        gateway,
        "GET",
        "project_overview?select=title&order=title",
        Authorization=f"Bearer {token_of(owner)}",
        Prefer="count=exact",
        Range="1-1",
    )
    assert (reply.status_code, reply.headers["content-range"]) == (206, "1-1/3")
    assert reply.json() == [{"title": "Beta"}]


def test_anon_reading_a_table_granted_only_to_users_is_401_42501(gateway: RunningGateway) -> None:
    reply = raw(gateway, "GET", "project_overview")
    assert reply.status_code == 401
    assert set(reply.json()) == {"code", "details", "hint", "message"}
    assert reply.json()["code"] == "42501"


def test_an_unknown_or_ungranted_relation_is_404_pgrst205(
    gateway: RunningGateway, owner: Any, admin_conn: psycopg.Connection[Any]
) -> None:
    admin_conn.execute(
        "CREATE TABLE public.t_ungranted (id int);"
        " REVOKE ALL ON public.t_ungranted FROM anon, authenticated, service_role"
    )
    for name in ("no_such_table", "t_ungranted"):
        with pytest.raises(APIError) as raised:
            owner.table(name).select("*").execute()
        assert raised.value.code == "PGRST205"
        assert (
            raised.value.message == f"Could not find the table 'public.{name}' in the schema cache"
        )


def test_an_unknown_column_is_400_42703_naming_the_table(owner: Any) -> None:
    with pytest.raises(APIError) as raised:
        owner.table("project_overview").select("nope").execute()
    assert raised.value.code == "42703"
    assert raised.value.message == "column project_overview.nope does not exist"


def test_bad_grammar_is_400_pgrst100(gateway: RunningGateway, owner: Any) -> None:
    reply = raw(
        gateway,
        "GET",
        "project_overview?title=approx.Alpha",
        Authorization=f"Bearer {token_of(owner)}",
    )
    assert (reply.status_code, reply.json()["code"]) == (400, "PGRST100")


def test_a_filter_value_is_bound_never_sql(gateway: RunningGateway, owner: Any) -> None:
    rows = owner.table("project_overview").select("title").eq("title", "x' OR '1'='1").execute()
    assert rows.data == []
