"""Set-returning rpc takes PostgREST's read modifiers, as supabase-py sends them."""

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

PROBES = """
CREATE FUNCTION public.t_rows(p_n integer DEFAULT 5)
RETURNS TABLE (n integer, label text) LANGUAGE sql AS $$
    SELECT i, CASE WHEN i = 3 THEN NULL ELSE 'row ' || i END FROM generate_series(1, p_n) AS i
$$;
CREATE TABLE public.t_calls (id serial PRIMARY KEY);
CREATE FUNCTION public.t_logged_rows() RETURNS SETOF integer
LANGUAGE sql SECURITY DEFINER AS $$
    INSERT INTO public.t_calls DEFAULT VALUES;
    SELECT generate_series(1, 3)
$$;
GRANT EXECUTE ON FUNCTION public.t_rows(integer), public.t_logged_rows() TO anon, authenticated;
"""


@pytest.fixture
def probes(admin_conn: psycopg.Connection[Any]) -> None:
    admin_conn.execute(PROBES)  # type: ignore[arg-type]


@pytest.fixture
def owner(gateway: RunningGateway) -> Any:
    """A signed-in user with projects Alpha, Beta, Gamma and an archived Delta."""
    client = sync_client(gateway)
    client.auth.sign_in_anonymously()
    for title in ("Gamma", "Alpha", "Delta", "Beta"):
        project_id = str(uuid.uuid4())
        client.rpc(
            "upsert_project_overview", {"p_project_id": project_id, "p_title": title}
        ).execute()
        if title == "Delta":
            client.rpc("archive_project", {"p_project_id": project_id}).execute()
    return client


def overviews(client: Any) -> Any:
    return client.rpc("list_project_overviews", {"p_include_archived": True})


def raw_get(gateway: RunningGateway, path: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/rest/v1/rpc/{path}", headers={"apikey": gateway.keys.anon_key, **headers}
    )


def test_select_filter_order_and_limit_shape_the_rows(owner: Any) -> None:
    result = (
        overviews(owner)
        .select("project_id,title")
        .eq("archived", False)
        .order("title")
        .limit(2)
        .execute()
    )
    assert [row["title"] for row in result.data] == ["Alpha", "Beta"]
    assert all(set(row) == {"project_id", "title"} for row in result.data)


def test_descending_order_and_offset_page_through_the_rows(owner: Any) -> None:
    result = overviews(owner).select("title").order("title", desc=True).range(1, 2).execute()
    assert [row["title"] for row in result.data] == ["Delta", "Beta"]


def test_an_exact_count_counts_every_filtered_row_not_only_the_page(owner: Any) -> None:
    result = (
        owner.rpc("list_project_overviews", {"p_include_archived": True}, count="exact")
        .select("title")
        .neq("title", "Gamma")
        .limit(1)
        .execute()
    )
    assert len(result.data) == 1
    assert result.count == 3


def test_single_gives_the_one_row_as_an_object(owner: Any) -> None:
    result = overviews(owner).select("title").eq("title", "Beta").single().execute()
    assert result.data == {"title": "Beta"}


@pytest.mark.parametrize(("title", "rows"), [("Nope", 0), ("*a*", 4)])
def test_single_refuses_zero_or_many_rows_with_pgrst116(owner: Any, title: str, rows: int) -> None:
    with pytest.raises(APIError) as refused:
        overviews(owner).select("title").like("title", title).single().execute()
    assert refused.value.code == "PGRST116"
    assert refused.value.details == f"The result contains {rows} rows"


def test_an_unknown_column_is_postgres_42703_as_400(gateway: RunningGateway, owner: Any) -> None:
    with pytest.raises(APIError) as refused:
        overviews(owner).select("title,no_such_column").execute()
    assert refused.value.code == "42703"
    reply = httpx.post(
        f"{gateway.url}/rest/v1/rpc/list_project_overviews?no_such_column=eq.1",
        json={},
        headers={
            "apikey": gateway.keys.anon_key,
            "Authorization": f"Bearer {owner.auth.get_session().access_token}",
        },
    )
    assert (reply.status_code, reply.json()["code"]) == (400, "42703")


def test_bad_grammar_is_pgrst100_and_json(gateway: RunningGateway, owner: Any) -> None:
    with pytest.raises(APIError) as refused:
        overviews(owner).filter("title", "sideways", "x").execute()
    assert refused.value.code == "PGRST100"


@pytest.mark.usefixtures("probes")
def test_get_arguments_are_the_function_parameters_and_the_rest_filters(
    gateway: RunningGateway,
) -> None:
    reply = raw_get(gateway, "t_rows?p_n=4&n=gt.1&select=n&order=n.desc")
    assert reply.status_code == 200
    assert reply.json() == [{"n": 4}, {"n": 3}, {"n": 2}]


@pytest.mark.usefixtures("probes")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("n=in.(1,4)", [1, 4]),
        ("n=not.in.(1,4)", [2, 3, 5]),
        ("label=is.null", [3]),
        ("label=not.is.null&n=lte.2", [1, 2]),
        ("label=ilike.ROW*5", [5]),
        ("n=gte.4", [4, 5]),
        ("n=lt.2", [1]),
    ],
)
def test_horizontal_filters_select_rows_as_postgrest_does(
    gateway: RunningGateway, query: str, expected: list[int]
) -> None:
    reply = raw_get(gateway, f"t_rows?{query}&order=n")
    assert reply.status_code == 200, reply.text
    assert [row["n"] for row in reply.json()] == expected


@pytest.mark.usefixtures("probes")
def test_nulls_are_ordered_first_or_last_as_asked(gateway: RunningGateway) -> None:
    first = raw_get(gateway, "t_rows?select=n&order=label.desc.nullsfirst&limit=2").json()
    last = raw_get(gateway, "t_rows?select=n&order=label.asc.nullslast").json()
    assert first == [{"n": 3}, {"n": 5}]
    assert last[-1] == {"n": 3}


@pytest.mark.usefixtures("probes")
def test_a_range_header_with_an_exact_count_is_a_partial_content_range(
    gateway: RunningGateway,
) -> None:
    reply = raw_get(gateway, "t_rows?select=n&order=n", Range="1-2", Prefer="count=exact")
    assert reply.status_code == 206
    assert reply.headers["Content-Range"] == "1-2/5"
    assert reply.json() == [{"n": 2}, {"n": 3}]
    whole = raw_get(gateway, "t_rows?select=n", Prefer="count=exact")
    assert (whole.status_code, whole.headers["Content-Range"]) == (200, "0-4/5")


@pytest.mark.usefixtures("probes")
def test_an_unknown_get_parameter_of_a_scalar_function_is_still_an_unknown_function(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    admin_conn.execute(
        "CREATE FUNCTION public.t_one(p_x integer) RETURNS integer LANGUAGE sql AS $$ SELECT p_x $$"
    )
    reply = raw_get(gateway, "t_one?p_x=1&p_y=2")
    assert (reply.status_code, reply.json()["code"]) == (404, "PGRST202")


@pytest.mark.usefixtures("probes")
def test_a_counted_page_calls_the_function_once(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    result = (
        sync_client(gateway).rpc("t_logged_rows", {}, count="exact").limit(2).execute()  # type: ignore[arg-type]
    )
    assert (result.data, result.count) == ([1, 2], 3)
    calls = admin_conn.execute("SELECT count(*) FROM public.t_calls").fetchone()
    assert calls == (1,)
