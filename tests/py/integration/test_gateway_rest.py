"""The gateway's /rest/v1/rpc answers supabase-py's postgrest client as PostgREST does."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError

from directorstudio.stack import tokens
from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)

PROBES = """
CREATE TABLE public.t_items (id integer PRIMARY KEY);
CREATE FUNCTION public.t_echo(p_text text, p_count integer DEFAULT 1) RETURNS text
LANGUAGE sql AS $$ SELECT repeat(p_text, p_count) $$;
CREATE FUNCTION public.t_context() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'role', current_user, 'uid', auth.uid(), 'method', current_setting('request.method'),
        'path', current_setting('request.path'), 'search_path', current_setting('search_path'),
        'claims_role', auth.jwt() ->> 'role',
        'client_info', current_setting('request.headers')::jsonb ->> 'x-client-info')
$$;
CREATE FUNCTION public.t_numbers(p_n integer) RETURNS SETOF integer
LANGUAGE sql AS $$ SELECT generate_series(1, p_n) $$;
CREATE FUNCTION public.t_count_ids(p_ids uuid[]) RETURNS integer
LANGUAGE sql AS $$ SELECT cardinality(p_ids) $$;
CREATE FUNCTION public.t_nothing() RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION public.t_echo_json(p_value jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT p_value $$;
CREATE FUNCTION public.t_fail() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'plain failure' USING DETAIL = 'some detail', HINT = 'some hint'; END $$;
CREATE FUNCTION public.t_duplicate() RETURNS void LANGUAGE sql SECURITY DEFINER AS $$
    INSERT INTO public.t_items VALUES (1), (1)
$$;
CREATE FUNCTION public.t_write() RETURNS void LANGUAGE sql SECURITY DEFINER AS $$
    INSERT INTO public.t_items VALUES (2)
$$;
CREATE FUNCTION public.t_service_only() RETURNS text LANGUAGE sql AS $$ SELECT 'secret' $$;
REVOKE ALL ON FUNCTION public.t_service_only() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.t_service_only() TO service_role;
GRANT EXECUTE ON FUNCTION public.t_echo(text, integer), public.t_context(),
    public.t_numbers(integer), public.t_count_ids(uuid[]), public.t_nothing(),
    public.t_echo_json(jsonb),
    public.t_fail(), public.t_duplicate(),
    public.t_write() TO anon, authenticated;
"""


@pytest.fixture
def probes(admin_conn: psycopg.Connection[Any]) -> None:
    admin_conn.execute(PROBES)  # type: ignore[arg-type]


def signed_in(gateway: RunningGateway) -> Any:
    client = sync_client(gateway)
    client.auth.sign_in_anonymously()
    return client


def raw_rpc(
    gateway: RunningGateway, name: str, body: Any = None, token: str | None = None
) -> httpx.Response:
    headers = {"apikey": gateway.keys.anon_key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{gateway.url}/rest/v1/rpc/{name}", json=body or {}, headers=headers)


@pytest.mark.usefixtures("probes")
def test_a_scalar_function_returns_its_bare_value(gateway: RunningGateway) -> None:
    result = sync_client(gateway).rpc("t_echo", {"p_text": "ab", "p_count": 3}).execute()
    assert result.data == "ababab"


@pytest.mark.usefixtures("probes")
def test_defaulted_arguments_may_be_left_out(gateway: RunningGateway) -> None:
    assert sync_client(gateway).rpc("t_echo", {"p_text": "ab"}).execute().data == "ab"


@pytest.mark.usefixtures("probes")
def test_a_json_array_argument_becomes_a_postgres_array(gateway: RunningGateway) -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    assert sync_client(gateway).rpc("t_count_ids", {"p_ids": ids}).execute().data == 2


@pytest.mark.usefixtures("probes")
def test_a_setof_function_returns_an_array_and_an_exact_count(gateway: RunningGateway) -> None:
    result = sync_client(gateway).rpc("t_numbers", {"p_n": 3}, count="exact").execute()  # type: ignore[arg-type]
    assert result.data == [1, 2, 3]
    assert result.count == 3


@pytest.mark.usefixtures("probes")
def test_an_empty_set_is_an_empty_array(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "t_numbers", {"p_n": 0})
    assert reply.status_code == 200
    assert reply.json() == []


@pytest.mark.usefixtures("probes")
def test_a_json_argument_reaches_the_function_as_the_body_wrote_it(
    gateway: RunningGateway,
) -> None:
    # PostgREST hands the body to PostgreSQL as it came: numbers keep their digits and scale.
    body = '{"p_value": {"exact": 0.10000000000000000555, "scaled": [2.50, 1e2], "text": "é"}}'
    reply = httpx.post(
        f"{gateway.url}/rest/v1/rpc/t_echo_json",
        content=body.encode(),
        headers={"apikey": gateway.keys.anon_key, "Content-Type": "application/json"},
    )
    assert reply.status_code == 200
    assert reply.text.replace(" ", "") == (
        '{"text":"é","exact":0.10000000000000000555,"scaled":[2.50,100]}'
    )


@pytest.mark.usefixtures("probes")
def test_a_get_call_passes_arguments_in_the_query_string(gateway: RunningGateway) -> None:
    result = sync_client(gateway).rpc("t_echo", {"p_text": "xy", "p_count": 2}, get=True).execute()
    assert result.data == "xyxy"


@pytest.mark.usefixtures("probes")
def test_a_void_function_answers_204(gateway: RunningGateway) -> None:
    assert raw_rpc(gateway, "t_nothing").status_code == 204


@pytest.mark.usefixtures("probes")
def test_the_call_runs_with_postgrest_request_context(gateway: RunningGateway) -> None:
    client = signed_in(gateway)
    user = client.auth.get_user().user
    context = client.rpc("t_context", {}).execute().data
    assert context["role"] == "authenticated"
    assert context["uid"] == user.id
    assert context["claims_role"] == "authenticated"
    assert context["method"] == "POST"
    assert context["path"] == "/rest/v1/rpc/t_context"
    assert context["search_path"].startswith('"public"')
    assert context["client_info"].startswith("supabase-py/")


@pytest.mark.usefixtures("probes")
def test_without_a_user_token_the_call_runs_as_anon(gateway: RunningGateway) -> None:
    context = sync_client(gateway).rpc("t_context", {}).execute().data
    assert context["role"] == "anon"
    assert context["uid"] is None


@pytest.mark.usefixtures("probes")
def test_the_service_key_runs_the_call_as_service_role(gateway: RunningGateway) -> None:
    client = sync_client(gateway, gateway.keys.service_role_key)
    assert client.rpc("t_service_only", {}).execute().data == "secret"


@pytest.mark.usefixtures("probes")
def test_a_raised_exception_is_400_p0001_with_postgrest_error_body(
    gateway: RunningGateway,
) -> None:
    reply = raw_rpc(gateway, "t_fail")
    assert reply.status_code == 400
    assert reply.json() == {
        "code": "P0001",
        "details": "some detail",
        "hint": "some hint",
        "message": "plain failure",
    }
    with pytest.raises(APIError) as raised:
        sync_client(gateway).rpc("t_fail", {}).execute()
    assert raised.value.code == "P0001"


@pytest.mark.usefixtures("probes")
def test_a_unique_violation_is_409_23505(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "t_duplicate")
    assert reply.status_code == 409
    assert reply.json()["code"] == "23505"


@pytest.mark.usefixtures("probes")
def test_permission_denied_is_401_for_anon(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "t_service_only")
    assert reply.status_code == 401
    assert reply.json()["code"] == "42501"


@pytest.mark.usefixtures("probes")
def test_permission_denied_is_403_for_a_signed_in_user(gateway: RunningGateway) -> None:
    session = sync_client(gateway).auth.sign_in_anonymously().session
    reply = raw_rpc(gateway, "t_service_only", token=session.access_token)
    assert reply.status_code == 403
    assert reply.json()["code"] == "42501"


def test_a_contract_error_keeps_its_code_in_the_hint(gateway: RunningGateway) -> None:
    session = sync_client(gateway).auth.sign_in_anonymously().session
    reply = raw_rpc(gateway, "import_sample_project", {"p_project_id": None}, session.access_token)
    assert reply.status_code == 400
    assert reply.json()["code"] == "22023"
    assert reply.json()["hint"] == "invalid_input"


def test_anon_may_not_call_a_user_function(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "import_sample_project", {"p_project_id": str(uuid.uuid4())})
    assert reply.status_code == 401
    assert reply.json()["code"] == "42501"


@pytest.mark.usefixtures("probes")
def test_a_write_in_a_get_call_is_405(gateway: RunningGateway) -> None:
    reply = httpx.get(
        f"{gateway.url}/rest/v1/rpc/t_write", headers={"apikey": gateway.keys.anon_key}
    )
    assert reply.status_code == 405
    assert reply.json()["code"] == "25006"


def test_an_unknown_function_is_404_pgrst202(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "no_such_function", {"p_a": 1})
    assert reply.status_code == 404
    assert reply.json()["code"] == "PGRST202"
    with pytest.raises(APIError) as raised:
        sync_client(gateway).rpc("no_such_function", {}).execute()
    assert raised.value.code == "PGRST202"


@pytest.mark.usefixtures("probes")
def test_unknown_argument_names_are_404_pgrst202(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "t_echo", {"p_text": "a", "p_other": 1})
    assert reply.status_code == 404
    assert reply.json()["code"] == "PGRST202"


def test_only_schema_public_is_exposed(gateway: RunningGateway) -> None:
    reply = raw_rpc(gateway, "require_user")
    assert reply.status_code == 404
    assert reply.json()["code"] == "PGRST202"


@pytest.mark.usefixtures("probes")
def test_a_badly_signed_jwt_is_401_pgrst301(gateway: RunningGateway) -> None:
    forged = tokens.encode({"sub": str(uuid.uuid4()), "role": "authenticated"}, "wrong")
    reply = raw_rpc(gateway, "t_echo", {"p_text": "a"}, token=forged)
    assert reply.status_code == 401
    assert reply.json()["code"] == "PGRST301"
    client = sync_client(gateway, Authorization=f"Bearer {forged}")
    with pytest.raises(APIError) as raised:
        client.rpc("t_echo", {"p_text": "a"}).execute()
    assert raised.value.code == "PGRST301"


@pytest.mark.usefixtures("probes")
def test_an_expired_jwt_is_401_pgrst303(gateway: RunningGateway) -> None:
    expired = tokens.encode(
        {"sub": str(uuid.uuid4()), "role": "authenticated", "exp": int(time.time()) - 10},
        gateway.keys.jwt_secret,
    )
    reply = raw_rpc(gateway, "t_echo", {"p_text": "a"}, token=expired)
    assert reply.status_code == 401
    assert reply.json()["code"] == "PGRST303"
    assert reply.json()["message"] == "JWT expired"


@pytest.mark.usefixtures("probes")
def test_a_session_token_expires_by_the_gateway_clock(
    gateway: RunningGateway, clock: Clock
) -> None:
    session = sync_client(gateway).auth.sign_in_anonymously().session
    clock.now += 3601
    reply = raw_rpc(gateway, "t_echo", {"p_text": "a"}, token=session.access_token)
    assert reply.status_code == 401
    assert reply.json()["code"] == "PGRST303"


def test_rest_without_an_api_key_is_refused(gateway: RunningGateway) -> None:
    reply = httpx.post(f"{gateway.url}/rest/v1/rpc/t_echo", json={})
    assert reply.status_code == 401


def test_an_unknown_api_key_is_refused(gateway: RunningGateway) -> None:
    reply = httpx.post(f"{gateway.url}/rest/v1/rpc/t_echo", json={}, headers={"apikey": "made-up"})
    assert reply.status_code == 401
    assert reply.json()["message"] == "Invalid API key"


def test_the_sample_project_import_is_idempotent(gateway: RunningGateway) -> None:
    client = signed_in(gateway)
    project_id = str(uuid.uuid4())
    first = client.rpc("import_sample_project", {"p_project_id": project_id}).execute().data
    again = client.rpc("import_sample_project", {"p_project_id": project_id}).execute().data
    assert first == again
    assert first["scene_count"] == 4


def test_a_schema_other_than_public_is_406_pgrst106(gateway: RunningGateway) -> None:
    reply = httpx.post(
        f"{gateway.url}/rest/v1/rpc/require_user",
        json={},
        headers={"apikey": gateway.keys.anon_key, "Content-Profile": "private"},
    )
    assert reply.status_code == 406
    assert reply.json()["code"] == "PGRST106"


def test_importing_the_sample_under_another_users_project_id_is_id_conflict(
    gateway: RunningGateway,
) -> None:
    project_id = str(uuid.uuid4())
    signed_in(gateway).rpc("import_sample_project", {"p_project_id": project_id}).execute()
    with pytest.raises(APIError) as raised:
        signed_in(gateway).rpc("import_sample_project", {"p_project_id": project_id}).execute()
    assert raised.value.hint == "id_conflict"
